"""Timeline events as people read them: one line per event, intents paired with results.

Pure: works on any object with the event attributes (``seq``, ``id``, ``at``, ``kind``,
``actor``, ``incident_id``, ``run_id``, ``function_id``, ``data``). Unknown kinds are shown
generically, so new event kinds never vanish from a postmortem.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from console.core.events import EventKind

#: Shown for an intent with no result: the process died, or the step is still running.
OUTCOME_UNKNOWN = "outcome unknown"
#: How a resumed run's failing ``check`` begins its output (the engine writes it).
GUARD_FAILED = "guard no longer holds"

_SENSITIVE = re.compile(
    r"pass(word|wd|phrase)?$|secret|token|api[-_]?key|authorization|credential|"
    r"private[-_]?key|cookie|bearer",
    re.IGNORECASE,
)
MASK = "«redacted»"


class EventLike(Protocol):
    """What the timeline needs of an event (``console.engine.events.Event`` fits)."""

    @property
    def seq(self) -> int: ...
    @property
    def id(self) -> str: ...
    @property
    def at(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def incident_id(self) -> str | None: ...
    @property
    def run_id(self) -> str | None: ...
    @property
    def function_id(self) -> str | None: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


def epoch(at: str) -> float | None:
    """Unix seconds of an ISO 8601 time (naive means UTC); None when unreadable."""
    try:
        t = datetime.fromisoformat(at)  # 3.11 reads a trailing Z
    except (AttributeError, TypeError, ValueError):
        return None
    return (t.replace(tzinfo=UTC) if t.tzinfo is None else t).timestamp()


def iso_at(t: float) -> str:
    """Unix seconds as every event time is written: UTC ISO 8601, milliseconds, a Z."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_sensitive_cache: dict[str, bool] = {}


def _is_sensitive(key: object) -> bool:
    if not isinstance(key, str):
        return False
    hit = _sensitive_cache.get(key)
    if hit is None:
        hit = _sensitive_cache[key] = bool(_SENSITIVE.search(key))
        if len(_sensitive_cache) > 10_000:  # bounded: keys come from data
            _sensitive_cache.clear()
    return hit


def mask_sensitive(obj: Any, depth: int = 0) -> Any:
    """``obj`` with the value of every secret-looking key (token, password, ...) masked.

    Returns a copy where something was masked and ``obj`` itself otherwise (never mutated).
    The top-level ``signals`` key (numbers the recorder wrote) is passed through as is.
    """
    if depth > 50:
        return MASK
    if isinstance(obj, dict):  # concrete types first: ABC checks are slow per value
        out = None
        for k, v in obj.items():
            if k == "signals" and depth == 0:
                new = v
            elif v is not None and v != "" and _is_sensitive(k):
                new = MASK
            elif isinstance(v, dict | list | tuple):
                new = mask_sensitive(v, depth + 1)
            else:
                continue
            if new is not v:
                if out is None:
                    out = dict(obj)  # copy only when something changes
                out[k] = new
        return obj if out is None else out
    if isinstance(obj, list | tuple):
        items = [mask_sensitive(v, depth + 1) for v in obj]
        return obj if all(a is b for a, b in zip(items, obj, strict=True)) else items
    if isinstance(obj, Mapping):
        return mask_sensitive(dict(obj), depth)
    return obj


def _get(data: Mapping[str, Any], *keys: str) -> Any:
    for k in keys:
        v = data.get(k)
        if v not in (None, ""):
            return v
    return None


def step_key(data: Mapping[str, Any]) -> str | None:
    """What pairs an intent with its result inside one run (step id, index or action)."""
    v = _get(data, "step_id", "step", "idx", "index", "action_id")
    return None if v is None else str(v)


def outcome_of(data: Mapping[str, Any]) -> str:
    """``ok``, ``failed`` or the result's own status word."""
    ok = _get(data, "ok", "holds", "success", "passed")
    if isinstance(ok, bool):
        return "ok" if ok else "failed"
    status = _get(data, "status", "outcome", "result")
    if isinstance(status, str):
        low = status.lower()
        if low in ("ok", "succeeded", "success", "done", "passed", "holds", "applied"):
            return "ok"
        if low in ("failed", "failure", "error", "errored", "timeout", "timed_out"):
            return "failed"
        return low
    return "recorded"


def pair_intents(events: Iterable[EventLike]) -> dict[str, EventLike | None]:
    """``{intent event id: its result event, or None}`` for every ``*.intent`` event.

    A result names its intent by ``intent_id`` in its data, or matches the earliest open
    intent of the same family (``action``, ``step``) in the same run with the same step key.
    Events must come in chain order.
    """
    paired: dict[str, EventLike | None] = {}
    waiting: dict[tuple[str, str | None, str | None], list[str]] = {}
    for ev in events:
        family, _, phase = ev.kind.rpartition(".")
        if phase == "intent":
            paired[ev.id] = None
            waiting.setdefault((family, ev.run_id, step_key(ev.data)), []).append(ev.id)
        elif phase == "result":
            named = ev.data.get("intent_id")
            if isinstance(named, str) and named in paired and paired[named] is None:
                paired[named] = ev
                for pending in waiting.values():
                    if named in pending:
                        pending.remove(named)
                continue
            same = waiting.get((family, ev.run_id, step_key(ev.data)))
            if same:
                paired[same.pop(0)] = ev
    return paired


def _params(data: Mapping[str, Any]) -> str:
    p = data.get("params")
    if isinstance(p, Mapping) and p:
        return " " + ", ".join(f"{k}={v}" for k, v in p.items())
    return ""


def _generic(data: Mapping[str, Any]) -> str:
    parts = [f"{k}={v}" for k, v in data.items() if k != "signals"]
    text = ", ".join(parts)
    return text if len(text) <= 200 else text[:199] + "…"


def summarize(k: str, d: Mapping[str, Any]) -> str:
    """One human line for an event of kind ``k`` with data ``d`` (mask ``d`` first).

    A kind the schema does not know (an older or foreign store) gets the generic line.
    """
    line = _LINES.get(k)
    if line is None:
        return f"{k}: {_generic(d)}"
    step = _get(d, "step")
    return line(d, f" {step}" if step is not None else "")


#: How an event reads: ``(data, " <step>" or "") -> line``.
Line = Callable[[Mapping[str, Any], str], str]


def _what(d: Mapping[str, Any], key: str = "what") -> str:
    """`` — <first line of the plan>`` when the event names the exact change."""
    line = _first_line(d.get(key))
    return f" — {line}" if line else ""


def _opened(d: Mapping[str, Any], _: str) -> str:
    fns = ", ".join(map(str, d.get("functions") or ()))
    return f"Incident opened: {d.get('title', '')} ({d.get('severity', '?')}) on {fns}"


def _finding(d: Mapping[str, Any], _: str) -> str:
    return (
        f"{d.get('mode', '')} {d.get('name', '')} detected ({d.get('severity', '?')}): "
        f"{d.get('evidence', '')}"
    )


def _alert(d: Mapping[str, Any], _: str) -> str:
    summary = f": {d['summary']}" if d.get("summary") else ""
    return f"Alert {d.get('name', '?')} firing ({d.get('severity', '?')}){summary}"


def _deploy(d: Mapping[str, Any], _: str) -> str:
    was = f" (was {d['previous_version']})" if d.get("previous_version") else ""
    by = f" by {d['author']}" if d.get("author") else ""
    return f"Deploy {d.get('version', '?')}{was}{by}"


def _run_started(d: Mapping[str, Any], _: str) -> str:
    dry = " (dry run)" if d.get("dry_run") else ""
    return f"Runbook {_get(d, 'runbook') or '?'} started{dry}{_params(d)}"


def _step_intent(d: Mapping[str, Any], label: str) -> str:
    what = _first_line(d.get("what"))
    kind = f" ({d['kind']})" if d.get("kind") else ""
    target = f" on {d['target']}" if d.get("target") else ""
    attempt = f", attempt {d['attempt']}" if d.get("attempt") not in (None, 1) else ""
    tail = f": {what}" if what else ""
    return f"Step{label}{kind}{target} started{attempt}{tail}{_params(d)}"


def _step_result(d: Mapping[str, Any], label: str) -> str:
    msg = _first_line(d.get("output"))
    if d.get("kind") == "check" and msg.startswith(GUARD_FAILED):
        return f"Guard{label} checked again on resume: {msg}; the run stops here"
    kind = f" ({d['kind']})" if d.get("kind") else ""
    tail = f": {msg}" if msg else ""
    return f"Step{label}{kind} {outcome_of(d)}{tail}"


def _replanned(d: Mapping[str, Any], label: str) -> str:
    before, after = _first_line(d.get("before")), _first_line(d.get("after"))
    return f"Step{label} re-planned on resume, the plan changed: was {before}; now {after}"


def _undo(d: Mapping[str, Any], _: str) -> str:
    was = f" (it had {d['was']})" if d.get("was") else ""
    return f"Undo of the runbook {_get(d, 'runbook') or '?'} run{was}: done steps reversed"


def _cancelled(d: Mapping[str, Any], _: str) -> str:
    if d.get("in"):
        return f"Run cancelled by the operator: stopped in step {d['in']}"
    if d.get("before"):
        return f"Run cancelled by the operator before step {d['before']}"
    return "Run cancelled by the operator"


def _annotation_refused(d: Mapping[str, Any], _: str) -> str:
    names = ", ".join(map(str, d.get("backends") or ())) or "the dashboards"
    return f"Annotation refused (not posted to {names}): {d.get('reason', 'read-only')}"


def _annotation_failed(d: Mapping[str, Any], _: str) -> str:
    errors = d.get("errors")
    names = ", ".join(map(str, errors)) if isinstance(errors, Mapping) else "a dashboard"
    return f"Annotation failed on {names}"


def _role_assigned(d: Mapping[str, Any], _: str) -> str:
    was = f" (was {d['was']})" if d.get("was") else ""
    return f"Role {d.get('role', '?')}: {d.get('who', '?')}{was}"


def _lease_refused(d: Mapping[str, Any], _: str) -> str:
    return (
        f"Run of {d.get('wanted', '?')} refused: {d.get('holder', '?')} is running "
        f"{d.get('runbook', '?')} since {d.get('since', '?')}, run {d.get('run', '?')}"
    )


def _lease_taken_over(d: Mapping[str, Any], _: str) -> str:
    return (
        f"Lease taken over by {d.get('holder', '?')} from {d.get('previous', '?')} "
        f"({d.get('previous_runbook', '?')}, run {d.get('previous_run', '?')}; "
        f"last heartbeat {d.get('last_heartbeat', '?')})"
    )


def _pushed(d: Mapping[str, Any], _: str) -> str:
    head = str(d.get("source_head_hash") or "?")[:12]
    return (
        f"Pushed from {d.get('source', '?')}: {d.get('new_events', '?')} new of "
        f"{d.get('events', '?')} events (local head #{d.get('source_head_seq', '?')} {head}…)"
    )


def _drill_ended(d: Mapping[str, Any], _: str) -> str:
    card = d.get("scorecard")
    line = card.get("summary") if isinstance(card, Mapping) else None
    return f"Drill ended ({d.get('reason', '?')}): {line or 'no scorecard'}"


K = EventKind
_LINES: dict[str, Line] = {
    K.INCIDENT_OPENED: _opened,
    K.NOTE: lambda d, _: f"Note: {d.get('text', '')}",
    K.STATUS_CHANGED: lambda d, _: f"Status {d.get('from', '?')} → {d.get('to', '?')}",
    K.FINDING_APPEARED: _finding,
    K.FINDING_CLEARED: lambda d, _: f"{d.get('mode', '')} {d.get('name', '')} cleared",
    K.ALERT_FIRING: _alert,
    K.ALERT_RESOLVED: lambda d, _: f"Alert {d.get('name', '?')} resolved",
    K.DEPLOY_SEEN: _deploy,
    K.SIGNALS_SAMPLED: lambda d, _: "Signals sampled",
    K.RUN_STARTED: _run_started,
    K.RUN_ENDED: lambda d, _: f"Runbook run ended: {_get(d, 'status') or outcome_of(d)}",
    K.RUN_LINKED: lambda d, _: (
        f"Runbook {_get(d, 'runbook') or '?'} run linked to incident {d.get('incident', '?')}"
    ),
    K.RUN_RESUMED: lambda d, _: (
        f"Runbook {_get(d, 'runbook') or '?'} run resumed: checks run again, "
        "remaining steps planned again"
    ),
    K.RUN_UNDO: _undo,
    K.RUN_CANCELLED: _cancelled,
    K.STEP_INTENT: _step_intent,
    K.STEP_RESULT: _step_result,
    K.STEP_REFUSED: lambda d, s: f"Step{s} refused: {d.get('reason', '')}{_what(d)}",
    K.STEP_CONFIRMED: lambda d, s: (
        f"Step{s} confirmed by the operator ({d.get('reason', '')}){_what(d)}"
    ),
    K.STEP_REPLANNED: _replanned,
    K.STEP_OUTCOME: lambda d, s: (
        f"Step{s} left unknown by a crash, settled on resume: {d.get('decision', '')}"
    ),
    K.ANNOTATION_REFUSED: _annotation_refused,
    K.ANNOTATION_FAILED: _annotation_failed,
    K.ROLE_ASSIGNED: _role_assigned,
    K.ROLE_UNASSIGNED: lambda d, _: (
        f"Role {d.get('role', '?')} unassigned (was {d.get('was', '?')})"
    ),
    K.LEASE_ACQUIRED: lambda d, _: (
        f"Lease taken by {d.get('holder', '?')} for {d.get('runbook', '?')}: no other "
        "mutating run on this function until it ends"
    ),
    K.LEASE_RELEASED: lambda d, _: (
        f"Lease released by {d.get('holder', '?')} ({d.get('runbook', '?')} {d.get('status', '?')})"
    ),
    K.LEASE_REFUSED: _lease_refused,
    K.LEASE_TAKEN_OVER: _lease_taken_over,
    K.LEASE_LOST: lambda d, _: (
        f"Lease of {d.get('holder', '?')} taken over by {d.get('taken_by', '?')}: the run stops"
    ),
    K.INCIDENT_PUSHED: _pushed,
    K.DRILL_STARTED: lambda d, _: (
        f"Drill started ({d.get('scenario', '?')}): the failure is hidden until the scorecard"
    ),
    K.DRILL_INJECTED: lambda d, _: (
        f"Drill failure began: {', '.join(map(str, d.get('modes') or ()))}"
    ),
    K.DRILL_SCREEN: lambda d, _: f"Opened the {d.get('screen', '?')} screen",
    K.DRILL_KEY: lambda d, _: f"Key {d.get('key', '?')}",
    K.DRILL_ENDED: _drill_ended,
}
del K


def _first_line(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= 160 else line[:159] + "…"


def format_signals(signals: Any) -> str:
    """``fn: err 3.1% p99 950ms 12.0rps`` per function; ``no data`` where unknown."""
    if not isinstance(signals, dict):
        return ""
    parts = []
    num = _NUMBERS
    for fid, s in signals.items():
        if type(s) is not dict:
            parts.append(f"{fid}: no data")
            continue
        err: Any = s.get("error_rate")
        p99: Any = s.get("p99_ms")
        rps: Any = s.get("rate_rps")
        e = f"err {err * 100:.2f}%" if type(err) in num else "err n/a"
        p = f"p99 {p99:.0f}ms" if type(p99) in num else "p99 n/a"
        r = f"{rps:.1f}rps" if type(rps) in num else "rps n/a"
        parts.append(f"{fid}: {e} {p} {r}")
    return "; ".join(parts)


#: What counts as a number in recorded signals (exact types: one set lookup per value).
_NUMBERS = frozenset({float, int, bool})
