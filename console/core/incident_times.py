"""When an incident began, was noticed, opened, mitigated and resolved — from its timeline.

Pure, no I/O. Every moment comes from a recorded event or the incident row, never from a
guess:

- ``detected``: the earliest finding or alert — a ``finding.appeared`` event's time, or an
  ``alert.firing`` event's ``since`` (when the alert itself started firing, which may be
  long before Callboard recorded it);
- ``onset``: the earliest evidence of the failure — ``detected``, or a deploy seen at most
  ``onset_window_s`` before it (a deploy further back is background, not the cause), and
  never later than ``opened``;
- ``opened``, ``mitigated``, ``resolved``: the incident's own times.

Each "time to" (detect, open, mitigate, resolve: MTTD/MTTA/MTTM/MTTR) is measured from
onset; a moment not reached yet is None, never 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from console.core.timeline import EventLike, epoch, iso_at

#: A deploy counts as the onset when it precedes the first finding by less than this.
DEFAULT_ONSET_WINDOW_S = 3600.0

# Tie-break between moments at the same second: the deploy explains the alert it caused.
_DEPLOY, _ALERT, _FINDING, _OPENED = range(4)


class IncidentRow(Protocol):
    """The incident times the computation needs (``console.engine.incidents.Incident``)."""

    @property
    def opened_at(self) -> str: ...
    @property
    def mitigated_at(self) -> str | None: ...
    @property
    def resolved_at(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Moment:
    """One point of the incident: when (UTC ISO 8601 and Unix seconds) and what it was."""

    at: str
    t: float
    what: str


@dataclass(frozen=True, slots=True)
class IncidentTimes:
    """Onset, detection, opening, mitigation and resolution of one incident."""

    onset: Moment | None
    detected: Moment | None
    opened: Moment | None
    mitigated: Moment | None
    resolved: Moment | None
    onset_window_s: float = DEFAULT_ONSET_WINDOW_S

    def since_onset(self, moment: Moment | None) -> float | None:
        """Seconds from onset to ``moment``; None when it has not happened."""
        if moment is None or self.onset is None:
            return None
        return round(moment.t - self.onset.t, 3)

    @property
    def time_to_detect_s(self) -> float | None:
        """MTTD: onset → the first finding or alert."""
        return self.since_onset(self.detected)

    @property
    def time_to_open_s(self) -> float | None:
        """MTTA: onset → the incident was opened (acknowledged by a person)."""
        return self.since_onset(self.opened)

    @property
    def time_to_mitigate_s(self) -> float | None:
        """MTTM: onset → marked mitigated (or resolved, if it never was mitigated)."""
        return self.since_onset(self.mitigated)

    @property
    def time_to_resolve_s(self) -> float | None:
        """MTTR: onset → resolved."""
        return self.since_onset(self.resolved)

    def to_json(self) -> dict[str, Any]:
        """The times as the exports and ``incident show --json`` give them."""

        def at(m: Moment | None) -> str | None:
            return None if m is None else m.at

        return {
            "onset": at(self.onset),
            "onset_cause": None if self.onset is None else self.onset.what,
            "detected": at(self.detected),
            "detected_by": None if self.detected is None else self.detected.what,
            "opened": at(self.opened),
            "mitigated": at(self.mitigated),
            "resolved": at(self.resolved),
            "onset_window_s": self.onset_window_s,
            "time_to_detect_s": self.time_to_detect_s,
            "time_to_open_s": self.time_to_open_s,
            "time_to_mitigate_s": self.time_to_mitigate_s,
            "time_to_resolve_s": self.time_to_resolve_s,
        }


def _when(text: object) -> float | None:
    """Unix seconds of a recorded time; None when unreadable or before 1970 (a zero time)."""
    t = epoch(text) if isinstance(text, str) and text else None
    return t if t is not None and t > 0 else None


def _moment(text: str | None, what: str) -> Moment | None:
    t = _when(text)
    return None if t is None else Moment(iso_at(t), t, what)


#: (Unix seconds, tie-break rank, what): one piece of evidence.
_Seen = tuple[float, int, str]


def _evidence(events: Iterable[EventLike]) -> tuple[list[_Seen], list[_Seen]]:
    """(findings and alerts, deploys) from the recorder's events."""
    seen: list[_Seen] = []
    deploys: list[_Seen] = []
    for ev in events:
        kind = ev.kind
        if kind not in ("finding.appeared", "alert.firing", "deploy.seen"):
            continue
        d: Mapping[str, Any] = ev.data
        on = f" on {ev.function_id}" if ev.function_id else ""
        recorded = _when(ev.at)
        if kind == "finding.appeared":
            if recorded is not None:
                what = f"finding {d.get('mode', '')} {d.get('name', '')}".rstrip()
                seen.append((recorded, _FINDING, what + on))
        elif kind == "alert.firing":
            since = _when(d.get("since"))
            # It fired at the latest when it was recorded (a clock ahead says no more).
            t = since if since is not None and (recorded is None or since <= recorded) else recorded
            if t is not None:
                seen.append((t, _ALERT, f"alert {d.get('name', '?')}{on}"))
        else:
            t = _when(d.get("deployed_at"))
            t = t if t is not None else recorded
            if t is not None:
                was = f" (was {d['previous_version']})" if d.get("previous_version") else ""
                deploys.append((t, _DEPLOY, f"deploy {d.get('version', '?')}{was}{on}"))
    return seen, deploys


def incident_times(
    incident: IncidentRow,
    events: Iterable[EventLike],
    *,
    onset_window_s: float = DEFAULT_ONSET_WINDOW_S,
) -> IncidentTimes:
    """The incident's times from its events (any order); see the module docstring."""
    opened = _moment(incident.opened_at, "incident opened")
    seen, deploys = _evidence(events)
    first = min(seen, default=None)
    detected = None if first is None else Moment(iso_at(first[0]), first[0], first[2])
    candidates = [first] if first is not None else []
    if opened is not None:
        candidates.append((opened.t, _OPENED, opened.what))
    ref = detected or opened
    if ref is not None:
        candidates += [d for d in deploys if 0.0 <= ref.t - d[0] < onset_window_s]
    onset = min(candidates, default=None)
    return IncidentTimes(
        onset=None if onset is None else Moment(iso_at(onset[0]), onset[0], onset[2]),
        detected=detected,
        opened=opened,
        mitigated=_moment(incident.mitigated_at, "marked mitigated"),
        resolved=_moment(incident.resolved_at, "resolved"),
        onset_window_s=onset_window_s,
    )
