"""Cause and effect: which deploy or alert preceded a finding's onset, and by how much.

A finding's onset is what this console saw: the refresh at which the finding first
appeared (:class:`Onsets`). A finding already present at the console's first refresh has
no known onset — only "already failing when the console started" — and the text says so
rather than invent one. Pure: a function of snapshots, deploys and alerts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from console.core.model import Alert, Deploy, Finding
from console.core.snapshot import FleetSnapshot
from console.core.timeline import epoch

#: A change or alert this long before the onset (or before the console started, when the
#: onset is not known) may explain it; older ones are not named as causes.
WINDOW_S = 3600.0


def ago(seconds: float) -> str:
    """A relative time for people: ``40 s``, ``20 min``, ``3 h 05 min``, ``2 d``."""
    s = max(0, int(seconds))
    if s < 90:
        return f"{s} s"
    if s < 3600:
        return f"{round(s / 60)} min"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h} h {m:02d} min" if m else f"{h} h"
    return f"{s // 86400} d"


def clock(at: float) -> str:
    """``21:00:05Z`` (UTC) of Unix seconds ``at``, the absolute time beside a relative one."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(at, UTC).strftime("%H:%M:%SZ")


@dataclass
class Onsets:
    """When each (function, failure mode) finding first appeared in this session.

    ``update`` each refresh: a finding that appears is stamped with that refresh's time; a
    finding that goes away is forgotten (its next appearance is a new onset). Findings
    present at the first refresh get no onset (``started`` is when the session began).
    """

    started: float | None = None
    seen: dict[tuple[str, str], float | None] = field(default_factory=dict)

    def update(self, snapshot: FleetSnapshot) -> None:
        now = snapshot.taken_at
        if now is None:
            return
        first = self.started is None
        if first:
            self.started = now
        current: dict[tuple[str, str], float | None] = {}
        for h in snapshot.functions:
            for f in h.findings:
                key = (h.id, f.mode.value)
                current[key] = self.seen.get(key) if key in self.seen else (None if first else now)
        self.seen = current

    def onset(self, function_id: str, finding: Finding) -> float | None:
        """The finding's onset, or None when it was already present at the first refresh."""
        return self.seen.get((function_id, finding.mode.value))


@dataclass(frozen=True)
class Cause:
    """A deploy or alert that preceded an onset."""

    kind: str  # "deploy" or "alert"
    #: ``checkout v2.14.0 by maya.chen`` / ``alert HighLatency``.
    what: str
    at: float


def _deploy_text(d: Deploy) -> str:
    service = d.function_id.split(":", 1)[0]
    by = f" by {d.author}" if d.author else ""
    return f"{service} {d.version}{by}"


def preceding(
    before: float,
    deploys: Iterable[Deploy],
    alerts: Iterable[Alert] = (),
    window: float = WINDOW_S,
) -> list[Cause]:
    """Deploys and alerts in the ``window`` seconds up to ``before``, the latest first
    (deploys before alerts at the same time: a deploy is a cause, an alert a symptom)."""
    out: list[Cause] = []
    for d in deploys:
        at = epoch(d.at)
        if at is not None and before - window <= at <= before:
            out.append(Cause("deploy", _deploy_text(d), at))
    for a in alerts:
        at = epoch(a.since)
        if at is not None and before - window <= at <= before:
            out.append(Cause("alert", f"alert {a.name}", at))
    out.sort(key=lambda c: (-c.at, c.kind != "deploy"))
    return out


def explain(
    onset: float | None,
    started: float | None,
    now: float,
    deploys: Sequence[Deploy],
    alerts: Sequence[Alert] = (),
) -> str | None:
    """The cause line of a finding's evidence, or None when nothing preceded it.

    ``began 40 s after checkout v2.14.0 by maya.chen (20 min ago, 20:41:00Z)`` when the
    onset is known; ``already failing when the console started; checkout v2.14.0 by
    maya.chen 19 min before that (20 min ago, 20:41:00Z)`` when it is not.
    """
    ref = onset if onset is not None else started
    if ref is None:
        return None
    causes = preceding(ref, deploys, alerts)
    if not causes:
        if onset is None:
            return "already failing when the console started: its onset is not known"
        return (
            f"began {ago(now - onset)} ago ({clock(onset)}); no deploy or alert in the hour before"
        )
    c = causes[0]
    when = f"{ago(now - c.at)} ago, {clock(c.at)}"
    if onset is not None:
        return f"began {ago(onset - c.at)} after {c.what} ({when})"
    return (
        f"already failing when the console started; {c.what} {ago(ref - c.at)} before that ({when})"
    )
