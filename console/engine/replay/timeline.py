"""An incident's recorded timeline, rebuilt as the fleet state at each recorded moment.

Pure over the incident's events (no I/O). Every event the recorder wrote carries the key
signals of the incident's functions at that moment (``data.signals``); a finding's event
also carries the numbers that triggered it (``values``: the evidence, and the baselines it
was compared with). So at any moment ``t`` a function's :class:`Signals` are its key
signals from the latest event at or before ``t``, completed by the values of the findings
open on it at ``t`` (a retry share, a memory level, a failing dependency — what the key
signals do not carry). Diagnosing those Signals against the recorded baselines finds the
same failure modes again, appearing and clearing in the recorded order.

A ``deploy.seen`` event is placed at its deploy time, but its signals were sampled when it
was seen (``observed_at``): that is the moment it counts for. The replay starts at the
recorder's first moment: an incident opened in the console carries the signals of a refresh
the recorder has not diagnosed yet (its findings follow with the next refresh), so signals
from before that first moment would show findings earlier than they were recorded. Unknown
stays unknown: a signal the recording does not hold is None, never 0.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from itertools import islice
from typing import Any

from console.core.events import Event, EventKind
from console.core.model import SLO, Signals
from console.core.sanitize import clean_line

__all__ = [
    "MAX_EVENTS",
    "AlertSpan",
    "DeploySeen",
    "FindingSpan",
    "Timeline",
    "build_timeline",
    "epoch",
]

#: Events read from one incident at most (a guard against a huge imported log).
MAX_EVENTS = 200_000
#: Functions read from one event's signals at most.
MAX_FUNCTIONS = 1000
#: Longest text kept from a recorded string (an evidence line, an alert summary).
MAX_TEXT = 500
_SIGNAL_FIELDS = frozenset(
    f.name
    for f in fields(Signals)
    if f.name not in ("error_ratio", "requests", "dependency_errors", "latency_capped")
)
_BASELINE_KEYS = {
    "baseline_p99_ms": "p99_ms",
    "baseline_rate_rps": "rate_rps",
    "baseline_cost_per_1k": "cost_per_1k",
    "baseline_queue_length": "queue_length",
}
_DEPENDENCY = "dependency_errors."


def epoch(text: object) -> float | None:
    """An ISO 8601 time as Unix seconds (None for anything else)."""
    if not isinstance(text, str):
        return None
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.timestamp() if t.tzinfo is not None else None


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    v = float(value)
    return v if math.isfinite(v) else None


def _text(value: object) -> str:
    return clean_line(str(value))[:MAX_TEXT] if isinstance(value, str | int | float) else ""


@dataclass(frozen=True, slots=True)
class FindingSpan:
    """A finding as recorded: when it appeared and cleared (None: still open at the end)."""

    function_id: str
    mode: str
    appeared: float
    cleared: float | None
    values: Mapping[str, float]
    evidence: str = ""
    seq: int = 0

    def open_at(self, t: float) -> bool:
        return self.appeared <= t and (self.cleared is None or t < self.cleared)


@dataclass(frozen=True, slots=True)
class AlertSpan:
    """An alert as recorded firing (``since`` as the source said) until it resolved."""

    function_id: str
    name: str
    severity: str
    since: str | None
    summary: str
    labels: Mapping[str, str]
    source: str
    firing: float
    resolved: float | None

    def open_at(self, t: float) -> bool:
        return self.firing <= t and (self.resolved is None or t < self.resolved)


@dataclass(frozen=True, slots=True)
class DeploySeen:
    """A deploy as recorded: deployed at ``deployed`` and first seen at ``seen``."""

    function_id: str
    version: str
    previous_version: str | None
    deployed: float
    seen: float
    author: str
    description: str


@dataclass(frozen=True)
class Timeline:
    """The recorded moments of one incident and what was open at each."""

    incident_id: str
    title: str
    functions: tuple[str, ...]
    #: function id -> the recorded moments (time, key signals), in time order.
    moments: Mapping[str, tuple[tuple[float, Mapping[str, Any]], ...]]
    findings: tuple[FindingSpan, ...] = ()
    alerts: tuple[AlertSpan, ...] = ()
    deploys: tuple[DeploySeen, ...] = ()
    #: Every recorded moment, in time order (the first is where a replay starts).
    times: tuple[float, ...] = ()
    #: The functions' SLOs as recorded (objective, window).
    slos: Mapping[str, SLO] = field(default_factory=dict)
    #: Events left unread past :data:`MAX_EVENTS` (0: the whole incident was read).
    truncated: int = 0
    #: function id -> the times of its moments (for the bisection), built with the moments.
    moment_times: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def start(self) -> float | None:
        return self.times[0] if self.times else None

    @property
    def end(self) -> float | None:
        return self.times[-1] if self.times else None

    def key_signals(self, fid: str, t: float) -> Mapping[str, Any] | None:
        """The key signals ``fid`` was last sampled with at or before ``t`` (as recorded)."""
        moments = self.moments.get(fid, ())
        times = self.moment_times.get(fid)
        if times is None or len(times) != len(moments):
            times = tuple(m[0] for m in moments)
        i = bisect.bisect_right(times, t)
        return moments[i - 1][1] if i else None

    def signals_at(self, fid: str, t: float) -> Signals | None:
        """``fid``'s Signals at ``t`` (None before its first recorded moment)."""
        key = self.key_signals(fid, t)
        if key is None:
            return None
        values: dict[str, Any] = {}
        deps: dict[str, float] = {}
        for f in self.findings:
            if f.function_id != fid or not f.open_at(t):
                continue
            for k, v in f.values.items():
                if k in _SIGNAL_FIELDS:
                    values.setdefault(k, v)
                elif k.startswith(_DEPENDENCY):
                    deps.setdefault(k[len(_DEPENDENCY) :], v)
        for k, v in key.items():  # the moment's own sample is the newer for what it holds
            n = _number(v)
            if k in _SIGNAL_FIELDS and n is not None:
                values[k] = n
        return Signals(**values, dependency_errors=deps)

    def baseline(self, fid: str) -> Signals | None:
        """``fid``'s baseline as its findings recorded it (None when none did)."""
        found: dict[str, Any] = {}
        for f in self.findings:
            if f.function_id != fid:
                continue
            for k, name in _BASELINE_KEYS.items():
                if k in f.values:
                    found.setdefault(name, f.values[k])
        return Signals(**found) if found else None

    def alerts_at(self, t: float) -> list[AlertSpan]:
        return [a for a in self.alerts if a.open_at(t)]

    def deploys_at(self, t: float) -> list[DeploySeen]:
        """The deploys seen by ``t``, newest first."""
        return sorted((d for d in self.deploys if d.seen <= t), key=lambda d: -d.deployed)

    def order(self) -> list[tuple[str, str]]:
        """``(mode, function id)`` of every finding in the order it appeared."""
        spans = sorted(self.findings, key=lambda f: (f.appeared, f.seq))
        return [(f.mode, f.function_id) for f in spans]


#: The kinds the recorder writes from a refresh it diagnosed (the others carry signals too).
RECORDED = frozenset({
    EventKind.FINDING_APPEARED, EventKind.FINDING_CLEARED, EventKind.ALERT_FIRING,
    EventKind.ALERT_RESOLVED, EventKind.DEPLOY_SEEN, EventKind.SIGNALS_SAMPLED,
})  # fmt: skip


def _moment(e: Event) -> float | None:
    """When an event's signals were sampled (a deploy: when it was seen)."""
    if e.kind == EventKind.DEPLOY_SEEN:
        seen = epoch(e.data.get("observed_at"))
        if seen is not None:
            return seen
    return epoch(e.at)


def _values(raw: object) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        return {}
    out = {}
    for k, v in list(raw.items())[:64]:
        n = _number(v)
        if isinstance(k, str) and n is not None:
            out[clean_line(k)[:MAX_TEXT]] = n
    return out


def _labels(raw: object) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        return {}
    return {_text(k): _text(v) for k, v in list(raw.items())[:64] if isinstance(k, str)}


def build_timeline(
    incident_id: str, title: str, functions: Sequence[str], events: Iterable[Event]
) -> Timeline:
    """The timeline of one incident from its events (any order; chain order is fine)."""
    chosen: list[tuple[float, int, Event]] = []
    truncated = 0
    for e in events:
        if len(chosen) >= MAX_EVENTS:
            truncated += 1
            continue
        t = _moment(e)
        if t is not None:
            chosen.append((t, e.seq, e))
    chosen.sort(key=lambda x: (x[0], x[1]))
    first = next((t for t, _, e in chosen if e.kind in RECORDED), None)
    moments: dict[str, list[tuple[float, Mapping[str, Any]]]] = {}
    slos: dict[str, SLO] = {}
    seen_slo: dict[str, tuple[object, object]] = {}
    opened: dict[tuple[str, str], tuple[float, int, dict[str, float], str]] = {}
    findings: list[FindingSpan] = []
    firing: dict[tuple[str, str], tuple[float, Event]] = {}
    alerts: list[AlertSpan] = []
    deploys: list[DeploySeen] = []
    times: list[float] = []
    for t, seq, e in chosen:
        signals = e.data.get("signals")
        if isinstance(signals, dict) and first is not None and t >= first:
            for fid, sig in islice(signals.items(), MAX_FUNCTIONS):
                if not isinstance(fid, str) or not isinstance(sig, dict):
                    continue
                moments.setdefault(fid, []).append((t, sig))  # decoded for us: not shared
                slo = (sig.get("objective"), sig.get("slo_window"))
                if seen_slo.get(fid) != slo:
                    seen_slo[fid] = slo
                    objective, window = _number(slo[0]), slo[1]
                    if objective is not None and 0 < objective < 1 and isinstance(window, str):
                        slos[fid] = SLO(objective=objective, window=_text(window))
            if not times or times[-1] != t:
                times.append(t)
        fid = e.function_id or ""
        mode = _text(e.data.get("mode"))
        if e.kind == EventKind.FINDING_APPEARED and fid and mode:
            if (fid, mode) not in opened:
                values = _values(e.data.get("values"))
                opened[fid, mode] = (t, seq, values, _text(e.data.get("evidence")))
        elif e.kind == EventKind.FINDING_CLEARED and fid and (fid, mode) in opened:
            at, first, values, evidence = opened.pop((fid, mode))
            findings.append(FindingSpan(fid, mode, at, t, values, evidence, first))
        elif e.kind == EventKind.ALERT_FIRING and fid:
            name = _text(e.data.get("name"))
            firing.setdefault((fid, name), (t, e))
        elif e.kind == EventKind.ALERT_RESOLVED and fid:
            name = _text(e.data.get("name"))
            if (fid, name) in firing:
                alerts.append(_alert(fid, name, *firing.pop((fid, name)), t))
        elif e.kind == EventKind.DEPLOY_SEEN and fid:
            deployed = epoch(e.data.get("deployed_at")) or epoch(e.at)
            version = _text(e.data.get("version"))
            if deployed is not None and version:
                prev = e.data.get("previous_version")
                deploys.append(DeploySeen(
                    fid, version, _text(prev) if prev is not None else None, deployed, t,
                    _text(e.data.get("author")), _text(e.data.get("description")),
                ))  # fmt: skip
    for (fid, mode), (at, first, values, evidence) in opened.items():
        findings.append(FindingSpan(fid, mode, at, None, values, evidence, first))
    for (fid, name), (at, e) in firing.items():
        alerts.append(_alert(fid, name, at, e, None))
    listed = [f for f in functions if isinstance(f, str)]
    known = tuple(dict.fromkeys([*listed, *sorted(moments)]))
    return Timeline(
        incident_id=incident_id,
        title=_text(title),
        functions=known,
        moments={fid: tuple(m) for fid, m in moments.items()},
        findings=tuple(sorted(findings, key=lambda f: (f.appeared, f.seq))),
        alerts=tuple(alerts),
        deploys=tuple(deploys),
        times=tuple(times),
        slos=slos,
        truncated=truncated,
        moment_times={fid: tuple(t for t, _ in m) for fid, m in moments.items()},
    )


def _alert(fid: str, name: str, at: float, e: Event, resolved: float | None) -> AlertSpan:
    since = e.data.get("since")
    return AlertSpan(
        fid, name, _text(e.data.get("severity")), _text(since) if since else None,
        _text(e.data.get("summary")), _labels(e.data.get("labels")),
        _text(e.data.get("source")), at, resolved,
    )  # fmt: skip
