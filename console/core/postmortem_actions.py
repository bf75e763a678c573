"""The actions a postmortem lists: what was done, refused or undone, and what came of it.

Pure, no I/O. An action is the intent of a mutating runbook step (or an ``action.intent``)
with its result and the verify outcomes after it; a step the operator or read-only refused
and an annotation read-only kept back are actions too (outcome ``refused``), and the steps
an undo ran are marked as undos, so the list says everything that was tried, not only what
went through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from console.core.postmortem_row import Row
from console.core.timeline import OUTCOME_UNKNOWN, EventLike, mask_sensitive, outcome_of, step_key

#: Runbook step kinds that change something: their intents are "actions taken".
ACTION_STEPS = frozenset({"action", "command", "http"})
#: Step kinds whose results verify the action before them.
VERIFY_STEPS = frozenset({"verify", "check"})
#: How an action the operator (or read-only) did not let through is marked.
REFUSED = "REFUSED"
#: How a step an undo ran is marked.
UNDO = "UNDO"


def is_action(kind: str, data: Mapping[str, Any]) -> bool:
    """An action's intent: ``action.intent``, or a mutating runbook step's ``step.intent``."""
    return kind == "action.intent" or (kind == "step.intent" and data.get("kind") in ACTION_STEPS)


def is_verify(kind: str, data: Mapping[str, Any]) -> bool:
    """A verify outcome: ``verify.result``, or a verify/check step's ``step.result``."""
    return kind == "verify.result" or (kind == "step.result" and data.get("kind") in VERIFY_STEPS)


@dataclass(frozen=True, slots=True)
class Action:
    """An action taken (an intent), refused, or run by an undo; what came of it and what
    verified it. ``mark`` is ``""``, :data:`UNDO` or :data:`REFUSED`."""

    at: str
    t: float | None
    run_id: str | None
    step: str | None
    action: str
    function_id: str | None
    params: Mapping[str, Any]
    outcome: str
    message: str
    result_at: str | None
    verify: tuple[str, ...] = ()
    mark: str = ""


def _label(step: str | None, what: Any, mark: str) -> str:
    text = str(what).strip()
    label = text.splitlines()[0] if text else "action"
    label = f"{step}: {label}" if step and not label.startswith(step) else label
    return f"{mark} · {label}" if mark else label


def actions_of(rows: list[Row], pairs: Mapping[str, EventLike | None]) -> tuple[Action, ...]:
    """Every action in ``rows`` (chain order), refused ones and undos included."""
    out: list[Action] = []
    last_in_run: dict[str | None, int] = {}
    run_params: dict[str | None, Mapping[str, Any]] = {}
    undoing: set[str | None] = set()
    for r in rows:
        ev, d = r.event, r.data
        kind = ev.kind
        if kind == "run.started" and isinstance(d.get("params"), Mapping):
            run_params[ev.run_id] = d["params"]
        elif kind == "run.undo":
            undoing.add(ev.run_id)
        elif kind == "run.ended":
            undoing.discard(ev.run_id)
        if is_action(kind, d) or kind in ("step.refused", "annotation.refused"):
            refused = kind != "action.intent" and kind != "step.intent"
            res = None if refused else pairs.get(ev.id)
            mark = REFUSED if refused else UNDO if ev.run_id in undoing else ""
            params = d.get("params") if isinstance(d.get("params"), Mapping) else None
            step = step_key(d)
            what: Any
            if kind == "annotation.refused":
                what = f"annotation {d.get('text') or ''}".strip()
            else:
                what = d.get("action") or d.get("title") or d.get("what") or d.get("kind")
            if refused:
                outcome, message = "refused", str(d.get("reason") or "")
            elif res is None:
                outcome, message = OUTCOME_UNKNOWN, ""
            else:
                outcome, message = outcome_of(res.data), _get_msg(mask_sensitive(res.data))
            out.append(Action(
                at=ev.at, t=r.t, run_id=ev.run_id, step=step,
                action=_label(step, what or "action", mark),
                function_id=d.get("target") or ev.function_id,
                params=params if params is not None else run_params.get(ev.run_id, {}),
                outcome=outcome, message=message, result_at=None if res is None else res.at,
                mark=mark,
            ))  # fmt: skip
            if not refused:
                last_in_run[ev.run_id] = len(out) - 1
        elif is_verify(kind, d) and ev.run_id in last_in_run:
            i = last_in_run[ev.run_id]
            note = f"{ev.at} {step_key(d) or 'verify'}: {outcome_of(d)}"
            out[i] = replace(out[i], verify=(*out[i].verify, note))
    return tuple(out)


def _get_msg(data: Mapping[str, Any]) -> str:
    for key in ("message", "output", "error"):
        v = data.get(key)
        if v:
            text = str(v).strip()
            return text.splitlines()[0] if text else ""
    return ""
