"""Several responders on one incident: who they are, the roles they hold, who did what.

Pure, no I/O. An actor is a short handle (``maya@laptop``): the ``me: {handle}`` of the
config, else ``$USER@host``. Roles (``commander``, ``comms``, ``ops`` or any safe name) are
not a table of their own: they are the fold of the incident's ``role.assigned`` /
``role.unassigned`` events, so an export, a pushed copy and the console all read the same
thing from the chain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from console.core.events import EventKind
from console.core.sanitize import clean_line
from console.core.timeline import EventLike

__all__ = [
    "COMMANDER",
    "HANDLE_MAX",
    "ROLE_PATTERN",
    "Responder",
    "Team",
    "check_handle",
    "check_role",
    "clean_handle",
    "default_handle",
    "notice",
    "roles_of",
    "team_of",
]

COMMANDER = "commander"
#: A role name: lower case, a letter first, then letters, digits, ``-`` or ``_`` (≤ 32).
ROLE_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,31}")
#: The longest handle or name kept (characters).
HANDLE_MAX = 64
NAME_MAX = 80


def clean_handle(text: str, limit: int = HANDLE_MAX) -> str:
    """``text`` (outside text: a config value, ``$USER``, a typed name) as one clean line,
    blanks collapsed, cut to ``limit`` characters."""
    return " ".join(clean_line(str(text)).split())[:limit]


def default_handle(user: str, host: str) -> str:
    """``user@host`` (the short host name), cleaned; ``unknown`` parts where missing."""
    user = clean_handle(user).replace(" ", "_") or "unknown"
    host = clean_handle(host.split(".", 1)[0]).replace(" ", "_") or "unknown"
    return clean_handle(f"{user}@{host}")


def check_role(role: str) -> str:
    """``role`` lower-cased if it is a safe role name; raises ValueError naming the rule."""
    name = clean_line(str(role)).strip().lower()
    if not ROLE_PATTERN.fullmatch(name):
        raise ValueError(
            f"role {clean_handle(role, 40)!r}: use a name such as commander, comms or ops "
            "(a letter, then letters, digits, - or _; at most 32)"
        )
    return name


def check_handle(who: str) -> str:
    """``who`` as a handle to record; raises ValueError when nothing printable is left."""
    handle = clean_handle(who)
    if not handle:
        raise ValueError("name someone: a handle such as maya@laptop")
    return handle


@dataclass(frozen=True, slots=True)
class Responder:
    """One actor of an incident's timeline."""

    actor: str
    name: str | None
    events: int
    first_at: str
    roles: tuple[str, ...] = ()

    def label(self) -> str:
        """``Maya Lee (maya@laptop)``, or the handle alone when no name is known."""
        return f"{self.name} ({self.actor})" if self.name else self.actor

    def to_json(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "name": self.name,
            "events": self.events,
            "first_at": self.first_at,
            "roles": list(self.roles),
        }


@dataclass(frozen=True, slots=True)
class Team:
    """The roles held now and the responders, in order of their first event."""

    roles: Mapping[str, str] = field(default_factory=dict)
    responders: tuple[Responder, ...] = ()

    @property
    def worth_showing(self) -> bool:
        """Whether an export shows the team: a role was held, or more than one actor or a
        named one wrote. A one-person incident reads as it always did (exports of stores
        from before roles stay byte for byte the same)."""
        return bool(self.roles) or len(self.responders) > 1 or any(r.name for r in self.responders)

    def roles_line(self) -> str:
        """``commander maya@laptop · comms ali@desk`` (commander first), or ``""``."""
        return " · ".join(f"{r} {who}" for r, who in _ordered(self.roles))

    def to_json(self) -> dict[str, Any]:
        return {
            "roles": dict(_ordered(self.roles)),
            "responders": [r.to_json() for r in self.responders],
        }


def _ordered(roles: Mapping[str, str]) -> list[tuple[str, str]]:
    return sorted(roles.items(), key=lambda kv: (kv[0] != COMMANDER, kv[0]))


def roles_of(events: Iterable[EventLike]) -> dict[str, str]:
    """role → who holds it, after ``events`` in chain order (unreadable ones skipped)."""
    roles: dict[str, str] = {}
    for e in sorted(events, key=lambda e: e.seq):
        if e.kind not in (EventKind.ROLE_ASSIGNED, EventKind.ROLE_UNASSIGNED):
            continue
        role = e.data.get("role")
        if not isinstance(role, str):
            continue
        who = e.data.get("who")
        if e.kind == EventKind.ROLE_ASSIGNED and isinstance(who, str) and who:
            roles[role] = who
        else:
            roles.pop(role, None)
    return roles


def team_of(events: Iterable[EventLike], names: Mapping[str, str] | None = None) -> Team:
    """The roles and responders of an incident's ``events`` (``names``: handle → name)."""
    evs = sorted(events, key=lambda e: e.seq)
    roles = roles_of(evs)
    seen: dict[str, list[Any]] = {}
    for e in evs:
        entry = seen.get(e.actor)
        if entry is None:
            seen[e.actor] = [1, e.at]
        else:
            entry[0] += 1
    held: dict[str, list[str]] = {}
    for role, who in _ordered(roles):
        held.setdefault(who, []).append(role)
    for who in held:  # someone given a role who has written nothing yet is a responder too
        seen.setdefault(who, [0, ""])
    names = names or {}
    return Team(
        roles=roles,
        responders=tuple(
            Responder(actor, names.get(actor), n, first, tuple(held.get(actor, ())))
            for actor, (n, first) in seen.items()
        ),
    )


_NOTICE = {
    EventKind.NOTE: "added a note to {incident}",
    EventKind.INCIDENT_OPENED: "opened {incident}",
    EventKind.STATUS_CHANGED: "marked {incident} {to}",
    EventKind.ROLE_ASSIGNED: "made {who} {role} on {incident}",
    EventKind.ROLE_UNASSIGNED: "unassigned {role} on {incident}",
    EventKind.RUN_STARTED: "started {runbook} on {function}",
    EventKind.RUN_ENDED: "ended a run on {function}: {status}",
    EventKind.RUN_RESUMED: "resumed {runbook} on {function}",
    EventKind.LEASE_TAKEN_OVER: "took over the lease on {function} from {previous}",
    EventKind.INCIDENT_PUSHED: "pushed {incident} here",
}


def notice(event: EventLike) -> str | None:
    """What a responder's event says to the others (``maya@laptop added a note to
    INC-0001``); None for the kinds that only refresh the view (steps, findings, signals)."""
    template = _NOTICE.get(event.kind)  # type: ignore[call-overload]
    if template is None:
        return None
    d = event.data
    fields = {
        "incident": event.incident_id or "an incident",
        "function": event.function_id or "a function",
        "to": d.get("to", "?"),
        "who": d.get("who", "?"),
        "role": d.get("role", "?"),
        "runbook": d.get("runbook", "a runbook"),
        "status": d.get("status", "?"),
        "previous": d.get("previous", "?"),
    }
    text = template.format(**{k: clean_handle(str(v), 80) for k, v in fields.items()})
    return f"{clean_handle(event.actor)} {text}"
