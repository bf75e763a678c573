"""Timeline events as people read them: one line per event, intents paired with results.

Pure: works on any object with the event attributes (``seq``, ``id``, ``at``, ``kind``,
``actor``, ``incident_id``, ``run_id``, ``function_id``, ``data``). Unknown kinds are shown
generically, so new event kinds never vanish from a postmortem.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

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
    """One human line for an event of kind ``k`` with data ``d`` (mask ``d`` first)."""
    step = _get(d, "step_id", "step", "idx")
    label = f" {step}" if step is not None else ""
    if k == "incident.opened":
        fns = ", ".join(map(str, d.get("functions") or ()))
        return f"Incident opened: {d.get('title', '')} ({d.get('severity', '?')}) on {fns}"
    if k == "note":
        return f"Note: {d.get('text', '')}"
    if k == "status.changed":
        return f"Status {d.get('from', '?')} → {d.get('to', '?')}"
    if k == "finding.appeared":
        return (
            f"{d.get('mode', '')} {d.get('name', '')} detected ({d.get('severity', '?')}): "
            f"{d.get('evidence', '')}"
        )
    if k == "finding.cleared":
        return f"{d.get('mode', '')} {d.get('name', '')} cleared"
    if k == "alert.firing":
        summary = f": {d['summary']}" if d.get("summary") else ""
        return f"Alert {d.get('name', '?')} firing ({d.get('severity', '?')}){summary}"
    if k == "alert.resolved":
        return f"Alert {d.get('name', '?')} resolved"
    if k == "deploy.seen":
        was = f" (was {d['previous_version']})" if d.get("previous_version") else ""
        by = f" by {d['author']}" if d.get("author") else ""
        return f"Deploy {d.get('version', '?')}{was}{by}"
    if k == "signals.sampled":
        return "Signals sampled"
    if k == "run.started":
        dry = " (dry run)" if d.get("dry_run") else ""
        return f"Runbook {_get(d, 'runbook', 'runbook_id') or '?'} started{dry}{_params(d)}"
    if k == "run.ended":
        return f"Runbook run ended: {_get(d, 'status', 'outcome') or outcome_of(d)}"
    if k in ("action.intent", "step.intent"):
        what = _first_line(_get(d, "action", "what", "title"))
        kind = f" ({d['kind']})" if d.get("kind") else ""
        target = f" on {d['target']}" if d.get("target") else ""
        attempt = f", attempt {d['attempt']}" if d.get("attempt") not in (None, 1) else ""
        tail = f": {what}" if what else ""
        return f"{k.split('.')[0].title()}{label}{kind}{target} started{attempt}{tail}{_params(d)}"
    if k in ("action.result", "step.result"):
        msg = _first_line(_get(d, "message", "output", "error"))
        if d.get("kind") == "check" and msg.startswith(GUARD_FAILED):
            return f"Guard{label} checked again on resume: {msg}; the run stops here"
        kind = f" ({d['kind']})" if d.get("kind") else ""
        tail = f": {msg}" if msg else ""
        return f"{k.split('.')[0].title()}{label}{kind} {outcome_of(d)}{tail}"
    if k == "verify.result":
        msg = _get(d, "message", "detail", "expect")
        return f"Verify{label} {outcome_of(d)}" + (f": {msg}" if msg else "")
    line = run_line(k, d, label)
    return f"{k}: {_generic(d)}" if line is None else line


def _what(d: Mapping[str, Any], key: str = "what") -> str:
    """`` — <first line of the plan>`` when the event names the exact change."""
    line = _first_line(d.get(key))
    return f" — {line}" if line else ""


def run_line(k: str, d: Mapping[str, Any], label: str) -> str | None:
    """The line of a run's safety event (refusals, confirmations, re-plans on resume, links
    to an incident, cancels, undos, annotations); None for a kind not handled here."""
    if k == "step.refused":
        return f"Step{label} refused: {d.get('reason', '')}{_what(d)}"
    if k == "step.confirmed":
        return f"Step{label} confirmed by the operator ({d.get('reason', '')}){_what(d)}"
    if k == "step.replanned":
        before, after = _first_line(d.get("before")), _first_line(d.get("after"))
        return f"Step{label} re-planned on resume, the plan changed: was {before}; now {after}"
    if k == "step.outcome":
        return f"Step{label} left unknown by a crash, settled on resume: {d.get('decision', '')}"
    if k == "run.linked":
        rb = _get(d, "runbook") or "?"
        return f"Runbook {rb} run linked to incident {d.get('incident', '?')}"
    if k == "run.resumed":
        rb = _get(d, "runbook") or "?"
        return f"Runbook {rb} run resumed: checks run again, remaining steps planned again"
    if k == "run.undo":
        was = f" (it had {d['was']})" if d.get("was") else ""
        return f"Undo of the runbook {_get(d, 'runbook') or '?'} run{was}: done steps reversed"
    if k == "run.cancelled":
        if d.get("in"):
            return f"Run cancelled by the operator: stopped in step {d['in']}"
        if d.get("before"):
            return f"Run cancelled by the operator before step {d['before']}"
        return "Run cancelled by the operator"
    if k == "annotation.refused":
        names = ", ".join(map(str, d.get("backends") or ())) or "the dashboards"
        return f"Annotation refused (not posted to {names}): {d.get('reason', 'read-only')}"
    if k == "annotation.failed":
        errors = d.get("errors")
        names = ", ".join(map(str, errors)) if isinstance(errors, Mapping) else "a dashboard"
        return f"Annotation failed on {names}"
    return None


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
