"""Roles on an incident: commander, comms, ops or any safe name — assigned, changed, removed.

A role is the fold of the incident's ``role.assigned`` / ``role.unassigned`` events
(:func:`console.core.team.roles_of`): each change is one event, written in a transaction that
first reads who holds the role, so the event says who held it before. Read-only refuses
every change (a refusal, exit 3), as it refuses mutating steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.core import events
from console.core.team import check_handle, check_role, roles_of
from console.engine.incidents.lifecycle import get_incident
from console.engine.store.base import StoreLike
from console.engine.store.events import COLUMNS, Event, EventLog, row_events
from console.errors import UserError

__all__ = ["READ_ONLY", "RoleRefused", "assign", "names", "roles", "unassign"]

READ_ONLY = "read-only: roles are not changed (unset read_only or drop --read-only)"
_ROLE_KINDS = (events.EventKind.ROLE_ASSIGNED.value, events.EventKind.ROLE_UNASSIGNED.value)


class RoleRefused(UserError):
    """A role change refused (read-only): exit 3, as a refused step."""

    exit_code = 3


_SELECT = f"SELECT {COLUMNS} FROM events WHERE incident_id = ? AND kind IN (?, ?) ORDER BY seq"


def _role_events(store: StoreLike, incident_id: str) -> list[Event]:
    return row_events(store.tuples(_SELECT, (incident_id, *_ROLE_KINDS)))


def _held(conn: Any, incident_id: str) -> dict[str, str]:
    """The roles read inside the caller's transaction on ``conn``."""
    rows = conn.execute(_SELECT, (incident_id, *_ROLE_KINDS)).fetchall()
    return roles_of(row_events(tuple(r[i] for i in range(11)) for r in rows))  # index access


def roles(store: StoreLike, incident_id: str) -> dict[str, str]:
    """role → who holds it now on ``incident_id``."""
    return roles_of(_role_events(store, get_incident(store, incident_id).id))


def names(store: StoreLike) -> dict[str, str]:
    """handle → display name, of everyone who wrote with ``me: {name}`` configured."""
    return {str(r[0]): str(r[1]) for r in store.tuples("SELECT handle, name FROM people")}


def _check(role: str, read_only: bool) -> str:
    if read_only:
        raise RoleRefused(READ_ONLY)
    try:
        return check_role(role)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def assign(
    store: StoreLike,
    incident_id: str,
    role: str,
    who: str,
    *,
    read_only: bool = False,
    log: EventLog | None = None,
    at: str | None = None,
) -> tuple[str, str, str | None]:
    """``who`` holds ``role`` on the incident from now on: ``(role, who, was)``.

    Assigning the holder again changes nothing and writes nothing (``was == who``).

    Raises:
        RoleRefused: read-only.
        UserError: an unsafe role name, nobody named, or no such incident.
    """
    name = _check(role, read_only)
    try:
        handle = check_handle(who)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    inc = get_incident(store, incident_id)
    log = log or EventLog(store)
    with store.transaction() as conn:  # read and write together: the event names who held it
        was = _held(conn, inc.id).get(name)
        if was != handle:
            event = events.role_assigned(name, handle, was=was).on(incident_id=inc.id, at=at)
            log.write(conn, [event])
    return name, handle, was


def unassign(
    store: StoreLike,
    incident_id: str,
    role: str,
    *,
    read_only: bool = False,
    log: EventLog | None = None,
    at: str | None = None,
) -> str:
    """Nobody holds ``role`` any more; returns who did.

    Raises:
        RoleRefused: read-only.
        UserError: an unsafe role name, a role nobody holds, or no such incident.
    """
    name = _check(role, read_only)
    inc = get_incident(store, incident_id)
    log = log or EventLog(store)
    with store.transaction() as conn:
        held: Mapping[str, str] = _held(conn, inc.id)
        was = held.get(name)
        if was is None:
            taken = ", ".join(sorted(held)) or "none"
            raise UserError(f"nobody holds {name} on {inc.id} (roles held: {taken})")
        log.write(conn, [events.role_unassigned(name, was).on(incident_id=inc.id, at=at)])
    return was
