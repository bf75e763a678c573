"""The postmortem of one incident, built from its timeline: pure, no I/O.

Summary, incident times (onset, detected, opened, mitigated, resolved and the time to each,
see :mod:`console.core.incident_times`), impact measured from onset (duration, error budget
burned, functions, peak error rate), the timeline sorted by UTC time, the actions taken with
their results and verify outcomes — refusals and undos marked, see
:mod:`console.core.postmortem_actions` — linked traces, and follow-ups to fill. Numbers come
only from the signals recorded on the events; where none were recorded the value is None
("no data"), never 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from console.core.incident_times import DEFAULT_ONSET_WINDOW_S, IncidentTimes, incident_times
from console.core.postmortem_actions import (
    ACTION_STEPS,
    REFUSED,
    UNDO,
    VERIFY_STEPS,
    Action,
    actions_of,
    is_action,
    is_verify,
)
from console.core.postmortem_row import Row
from console.core.slo import parse_window
from console.core.team import Team, team_of
from console.core.timeline import (
    OUTCOME_UNKNOWN,
    EventLike,
    epoch,
    format_signals,
    mask_sensitive,
    outcome_of,
    pair_intents,
    summarize,
)

__all__ = ["ACTION_STEPS", "VERIFY_STEPS", "Action", "Impact", "IncidentLike", "Postmortem",
           "Row", "build_postmortem", "is_action", "is_verify", "window_seconds"]  # fmt: skip

_TRACE_KEYS = frozenset({"trace_id", "traceId", "trace_ids", "traces"})


class IncidentLike(Protocol):
    """What the postmortem needs of an incident (``console.engine.incidents.Incident``)."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def functions(self) -> tuple[str, ...]: ...
    @property
    def opened_at(self) -> str: ...
    @property
    def mitigated_at(self) -> str | None: ...
    @property
    def resolved_at(self) -> str | None: ...
    @property
    def opened_by(self) -> str: ...
    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Impact:
    """How bad it was, from onset. Every number is None when nothing was measured."""

    start: str | None
    end: str | None
    duration_s: float | None
    ongoing: bool
    time_to_mitigate_s: float | None
    functions: tuple[str, ...]
    peak_error_rate: float | None
    peak_at: str | None
    peak_function: str | None
    budget_burned: Mapping[str, float | None]
    budget_method: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start, "end": self.end, "duration_s": self.duration_s,
            "ongoing": self.ongoing, "time_to_mitigate_s": self.time_to_mitigate_s,
            "functions": list(self.functions), "peak_error_rate": self.peak_error_rate,
            "peak_at": self.peak_at, "peak_function": self.peak_function,
            "error_budget_burned": dict(self.budget_burned),
            "error_budget_method": dict(self.budget_method),
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Postmortem:
    """Everything an export renders."""

    incident: IncidentLike
    summary: str
    impact: Impact
    timeline: tuple[Row, ...]
    actions: tuple[Action, ...]
    traces: tuple[tuple[str, str, str], ...]  # (trace id, at, what linked it)
    followups: tuple[str, ...]
    times: IncidentTimes
    #: function id -> [(unix seconds, error rate)], oldest first.
    series: Mapping[str, tuple[tuple[float, float], ...]] = field(default_factory=dict)
    #: The roles held and the responders (who did what; see :mod:`console.core.team`).
    team: Team = field(default_factory=Team)


def window_seconds(window: object) -> float | None:
    """Seconds in an SLO window like ``30d``; None when unreadable."""
    try:
        return parse_window(window) if isinstance(window, str) else None
    except ValueError:
        return None


def _traces(data: Any, depth: int = 0) -> Iterable[str]:
    if depth > 8 or not isinstance(data, Mapping):
        return
    for k, v in data.items():
        if k == "signals":
            continue
        if k in _TRACE_KEYS:
            for tid in v if isinstance(v, list | tuple) else (v,):
                if isinstance(tid, str) and tid:
                    yield tid
        elif isinstance(v, Mapping):
            yield from _traces(v, depth + 1)


def build_postmortem(
    incident: IncidentLike,
    events: Iterable[EventLike],
    *,
    now: str | None = None,
    with_signals: bool = True,
    onset_window_s: float = DEFAULT_ONSET_WINDOW_S,
    names: Mapping[str, str] | None = None,
) -> Postmortem:
    """The postmortem of ``incident`` from its events (any order; chain order is restored).

    ``names``: handle → display name of the responders (the store's ``people``).

    ``onset_window_s``: how long before the first finding a deploy still counts as the onset
    (config ``incidents.onset_window``).

    ``with_signals=False`` leaves each row's ``signals`` text empty, for renderers that show
    the recorded numbers from ``data`` instead (JSON): formatting them is a fifth of the work.
    """
    fmt_signals = format_signals if with_signals else _no_signals
    evs = sorted(events, key=lambda e: e.seq)
    pairs = pair_intents(evs)
    result_of_intent = {r.id: i for i, r in pairs.items() if r is not None}
    rows: list[Row] = []
    for ev in evs:
        data = mask_sensitive(ev.data)
        outcome = None
        if ev.id in pairs:
            res = pairs[ev.id]
            outcome = OUTCOME_UNKNOWN if res is None else outcome_of(res.data)
        elif ev.id in result_of_intent or ev.kind.endswith(".result"):
            outcome = outcome_of(ev.data)
        summary = summarize(ev.kind, data)
        if outcome == OUTCOME_UNKNOWN:
            summary += " — OUTCOME UNKNOWN: no result was recorded (crash or still running)"
        rows.append(Row(epoch(ev.at), ev, data, summary, outcome, fmt_signals(data.get("signals"))))
    rows.sort(key=lambda r: (r.t if r.t is not None else float("inf"), r.event.seq))
    actions = actions_of(rows, pairs)
    times = incident_times(incident, evs, onset_window_s=onset_window_s)
    impact, series = _impact(incident, times, rows, now)
    traces: dict[str, tuple[str, str, str]] = {}
    for r in rows:
        for tid in _traces(r.data):
            traces.setdefault(tid, (tid, r.event.at, r.summary))
    return Postmortem(
        incident=incident,
        summary=_summary(incident, rows, actions),
        impact=impact,
        timeline=tuple(rows),
        actions=actions,
        traces=tuple(traces.values()),
        followups=_followups(rows, actions),
        times=times,
        series=series,
        team=team_of(evs, names),
    )


def _no_signals(_signals: object) -> str:
    return ""


def _impact(
    incident: IncidentLike, times: IncidentTimes, rows: list[Row], now: str | None
) -> tuple[Impact, dict[str, tuple[tuple[float, float], ...]]]:
    t0 = None if times.onset is None else times.onset.t
    end = incident.resolved_at
    ongoing = end is None
    if ongoing:
        end = now or (rows[-1].event.at if rows else None)
    t1 = epoch(end) if end else None
    series: dict[str, list[tuple[float, float]]] = {}
    budget_points: dict[str, list[tuple[float, float]]] = {}
    slo: dict[str, tuple[float | None, float | None]] = {}
    peak: tuple[float, str, str] | None = None
    for r in rows:
        sig = r.data.get("signals")
        if sig is None or (type(sig) is not dict and not isinstance(sig, Mapping)):
            continue
        observed = r.data.get("observed_at")
        t = epoch(str(observed)) if observed else r.t
        if t is None:
            continue
        for fid, s in sig.items():
            if type(s) is not dict and not isinstance(s, dict):
                continue
            err = s.get("error_rate")
            if err is not None and type(err) is not str:
                series.setdefault(fid, []).append((t, float(err)))
                if peak is None or err > peak[0]:  # placed when it was observed
                    peak = (float(err), str(observed) if observed else r.event.at, fid)
            left = s.get("budget_remaining")
            if left is not None and type(left) is not str:
                budget_points.setdefault(fid, []).append((t, float(left)))
            if fid not in slo:
                obj = s.get("objective")
                obj = obj if isinstance(obj, int | float) else None
                slo[fid] = (obj, window_seconds(s.get("slo_window")))
    burned: dict[str, float | None] = {}
    method: dict[str, str] = {}
    for fid in incident.functions:
        pts = sorted(budget_points.get(fid, []))
        if len(pts) >= 2 and pts[-1][0] > pts[0][0]:
            burned[fid], method[fid] = round(pts[0][1] - pts[-1][1], 6), "budget_remaining"
            continue
        burned[fid] = _integrate(sorted(series.get(fid, [])), t1, *slo.get(fid, (None, None)))
        method[fid] = "error_rate" if burned[fid] is not None else "no data"
    impact = Impact(
        start=None if times.onset is None else times.onset.at, end=end,
        duration_s=None if t0 is None or t1 is None else round(t1 - t0, 3),
        ongoing=ongoing,
        time_to_mitigate_s=times.time_to_mitigate_s,
        functions=incident.functions,
        peak_error_rate=peak[0] if peak else None, peak_at=peak[1] if peak else None,
        peak_function=peak[2] if peak else None,
        budget_burned=burned, budget_method=method,
    )  # fmt: skip
    return impact, {k: tuple(sorted(v)) for k, v in series.items()}


def _integrate(
    pts: list[tuple[float, float]],
    end: float | None,
    objective: float | None,
    window_s: float | None,
) -> float | None:
    """Budget fraction burned: ∫ error rate dt / ((1 − objective) × window), steady traffic."""
    if not pts or objective is None or window_s is None or objective >= 1.0:
        return None
    if max(end or pts[-1][0], pts[-1][0]) <= pts[0][0]:  # one instant: nothing measured
        return None
    area = sum(v * (pts[i + 1][0] - t) for i, (t, v) in enumerate(pts[:-1]))
    if end is not None and end > pts[-1][0]:
        area += pts[-1][1] * (end - pts[-1][0])
    return round(area / ((1.0 - objective) * window_s), 6)


def _summary(inc: IncidentLike, rows: list[Row], actions: tuple[Action, ...]) -> str:
    kinds = [r.event.kind for r in rows]
    unknown = sum(a.outcome == OUTCOME_UNKNOWN for a in actions)
    failed = sum(a.outcome == "failed" for a in actions)
    refused = sum(a.mark == REFUSED for a in actions)
    undos = sum(a.mark == UNDO for a in actions)
    return (
        f"{inc.id} {inc.title} — {inc.severity}, {inc.status}. Opened {inc.opened_at} by "
        f"{inc.opened_by} on {', '.join(inc.functions)}. {kinds.count('finding.appeared')} "
        f"finding(s) detected, {kinds.count('alert.firing')} alert(s) fired, "
        f"{kinds.count('deploy.seen')} deploy(s) seen, {kinds.count('run.started')} runbook "
        f"run(s), {len(actions)} action(s) ({failed} failed, {refused} refused, {undos} undo(s), "
        f"{unknown} with unknown outcome), "
        f"{kinds.count('note')} note(s)."
    )


def _followups(rows: list[Row], actions: tuple[Action, ...]) -> tuple[str, ...]:
    items = ["Root cause: _to fill_", "What detected it, and how fast: _to fill_",
             "What would have prevented it: _to fill_"]  # fmt: skip
    for a in actions:
        if a.outcome == OUTCOME_UNKNOWN:
            items.append(f"Confirm what “{a.action}” at {a.at} did: its outcome is unknown")
        elif a.outcome == "failed":
            items.append(f"“{a.action}” at {a.at} failed: {a.message or 'see timeline'}")
    active: dict[str, str] = {}
    for r in rows:
        kind = r.event.kind
        if kind != "finding.appeared" and kind != "finding.cleared":
            continue
        key = f"{r.event.function_id} {r.data.get('mode', '')} {r.data.get('name', '')}"
        if kind == "finding.appeared":
            active[key] = r.event.at
        else:
            active.pop(key, None)
    items += [f"Still open at export: {k.strip()} (since {at})" for k, at in active.items()]
    return tuple(items)
