"""Planning demo actions: validate a request and say exactly what it would change.

``plan_action`` is pure over (fleet, controls, request). It returns the plan and the
normalised parameters that ``Controls.apply`` folds in once the action is executed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from callboard_demo.catalog import ACTIONS
from callboard_demo.controls import Controls
from callboard_demo.fleet import Fleet
from callboard_demo.scenario import FAILURES, Change, changes_for
from callboard_demo.sim import window_seconds
from console.plugin_api import ActionError, ActionPlan, ActionRequest, BadResponse, Function, Kind

#: action -> the parameters it accepts.
PARAMS: dict[str, frozenset[str]] = {
    "rollback": frozenset(),
    "throttle": frozenset({"rps"}),
    "circuit_open": frozenset({"dependency"}),
    "circuit_close": frozenset({"dependency"}),
    "scale": frozenset({"replicas", "min_instances"}),
    "silence": frozenset({"duration", "alert"}),
    "restart": frozenset(),
    "annotate": frozenset({"text"}),
}


def _count(name: str, value: Any) -> int:
    """A non-negative whole number (an int, or a string of digits from a template)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ActionError(f"scale: {name} must be a whole number ≥ 0, got {value!r}")
    return value


def _rate(value: Any) -> float:
    """A positive, finite number of requests per second."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ActionError(f"throttle: rps must be a number > 0, got {value!r}") from None
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:
        raise ActionError(f"throttle: rps must be a number > 0, got {value!r}")
    return float(value)


def current_change(fleet: Fleet, controls: Controls, service: str) -> Change | None:
    """The newest change of ``service`` that has not been rolled back."""
    for c in changes_for(fleet.seed, service, fleet.owners.get(service, service)):
        if not controls.is_reverted(service, c.version):
            return c
    return None


def plan_action(
    fleet: Fleet, controls: Controls, request: ActionRequest, backend: str
) -> tuple[ActionPlan, dict[str, Any]]:
    """The plan for ``request`` and the parameters to store when it runs.

    Raises:
        ActionError: an unknown action or function, an unknown or invalid parameter.
    """
    if request.action not in ACTIONS:
        raise ActionError(
            f"demo: unknown action {request.action!r} (supported: {', '.join(sorted(ACTIONS))})"
        )
    fn = fleet.by_id.get(request.function_id)
    if fn is None:
        raise ActionError(f"demo: no function {request.function_id!r} in the demo fleet")
    params = dict(request.params) if isinstance(request.params, Mapping) else {}
    unknown = sorted(set(params) - PARAMS[request.action])
    if unknown:
        allowed = ", ".join(sorted(PARAMS[request.action])) or "none"
        raise ActionError(
            f"{request.action}: unknown parameter {', '.join(map(repr, unknown))} (accepted: {allowed})"
        )
    if request.action == "annotate" and "text" not in params and request.reason:
        params["text"] = request.reason
    summary, changes, done, apply, mutates = _PLANNERS[request.action](fleet, controls, fn, params)
    details = {"params": apply, "done": done, "function_id": fn.id, "service": fn.service}
    plan = ActionPlan(request, backend, summary, tuple(changes), mutates, details)
    return plan, apply


_Planned = tuple[str, list[str], str, dict[str, Any], bool]


def _rollback(fleet: Fleet, c: Controls, fn: Function, params: dict[str, Any]) -> _Planned:
    change = current_change(fleet, c, fn.service)
    if change is None:
        raise ActionError(f"rollback: {fn.service} has no earlier version to roll back to")
    what = f"{fn.service} from {change.version} to {change.previous}"
    n = len(fleet.services.get(fn.service, ()))
    changes = [
        f"{fn.service}: {change.version} → {change.previous} ({n} functions redeploy)",
        f"reverts {change.version}: {change.description} (by {change.author})",
    ]
    apply = {"service": fn.service, "from_version": change.version, "to_version": change.previous}
    return f"roll back {what}", changes, f"rolled back {what}", apply, True


def _throttle(fleet: Fleet, c: Controls, fn: Function, params: dict[str, Any]) -> _Planned:
    normal = fleet.profiles[fn.id].rate
    rps = _rate(params["rps"]) if "rps" in params else float(max(1, round(normal)))
    now = c.throttled_to(fn.id)
    before = "no limit" if now is None else f"{now:g} rps"
    changes = [f"rate limit on {fn.id}: {before} → {rps:g} rps (normal traffic {normal:g} rps)"]
    if rps < normal:
        changes.append(f"requests above {rps:g} rps wait in line or are shed by the caller")
    what = f"{fn.id} to {rps:g} rps"
    return f"throttle {what}", changes, f"throttled {what}", {"rps": rps}, True


def _dependencies(fn: Function, params: dict[str, Any], verb: str) -> list[str]:
    dep = params.get("dependency")
    if dep is not None:
        if dep not in fn.dependencies:
            known = ", ".join(fn.dependencies) or "none"
            raise ActionError(f"{verb}: {fn.id} does not call {dep!r} (its dependencies: {known})")
        return [str(dep)]
    if not fn.dependencies:
        action = verb.split("_")[1]
        raise ActionError(f"{verb}: {fn.id} calls no dependency, so it has no circuit to {action}")
    return list(fn.dependencies)


def _circuit_open(fleet: Fleet, c: Controls, fn: Function, params: dict[str, Any]) -> _Planned:
    deps = _dependencies(fn, params, "circuit_open")
    to = ", ".join(deps)
    changes = [f"circuit {fn.id} → {d}: closed → open" for d in deps]
    changes.append(f"calls to {to} fail fast; {fn.id} serves its fallback path")
    what = f"the circuit from {fn.id} to {to}"
    return f"open {what}", changes, f"opened {what}", {"dependencies": deps}, True


def _circuit_close(fleet: Fleet, c: Controls, fn: Function, params: dict[str, Any]) -> _Planned:
    deps = _dependencies(fn, params, "circuit_close")
    open_now = [d for d in deps if c.circuit_open(fn.id, d)]
    changes = [f"circuit {fn.id} → {d}: open → closed" for d in open_now]
    if not open_now:
        changes = [f"no circuit from {fn.id} is open: nothing changes"]
    what = f"the circuit from {fn.id} to {', '.join(deps)}"
    return f"close {what}", changes, f"closed {what}", {"dependencies": deps}, bool(open_now)


def _scale(fleet: Fleet, c: Controls, fn: Function, params: dict[str, Any]) -> _Planned:
    serverless = fn.kind is Kind.SERVERLESS
    key, other = ("min_instances", "replicas") if serverless else ("replicas", "min_instances")
    if other in params:
        kind = "serverless" if serverless else fn.kind.value
        raise ActionError(f"scale: {fn.id} is {kind}: set {key}, not {other}")
    if key not in params:
        raise ActionError(f"scale: {fn.id} needs {key} (a whole number ≥ 0)")
    target = _count(key, params[key])
    table = c.min_instances if serverless else c.replicas
    now = table.get(fn.id, fleet.profiles[fn.id].replicas)
    label = "min instances" if serverless else "replicas"
    what = f"{fn.id} {label} {now} → {target}"
    return f"scale {what}", [f"{label}: {now} → {target}"], f"scaled {what}", {key: target}, True


def _alerts_of(fn: Function) -> list[str]:
    return [f.alert for f in FAILURES if f.function_id == fn.id]


def _silence(fleet: Fleet, c: Controls, fn: Function, params: dict[str, Any]) -> _Planned:
    duration = str(params.get("duration", "1h"))
    try:
        secs = window_seconds(duration)
    except BadResponse:
        raise ActionError(
            f"silence: duration must look like 30m, 1h or 2d, got {duration!r}"
        ) from None
    alert = params.get("alert")
    names = _alerts_of(fn)
    if alert is not None and alert not in names:
        raise ActionError(
            f"silence: {fn.id} has no alert {alert!r} (its alerts: {', '.join(names) or 'none'})"
        )
    which = f"alert {alert}" if alert else "alerts"
    what = f"{which} of {fn.id} for {duration}"
    changes = [f"silence {what} (notifications stop; the alert stays visible)"]
    apply = {"duration_s": secs, "alert": alert}
    return f"silence {what}", changes, f"silenced {what}", apply, True


def _restart(fleet: Fleet, c: Controls, fn: Function, params: dict[str, Any]) -> _Planned:
    n = fleet.profiles[fn.id].instances
    changes = [f"rolling restart of {n} instance{'s' if n != 1 else ''} of {fn.id}"]
    changes.append("each instance drains, restarts and re-reads its config and secrets")
    return f"restart {fn.id}", changes, f"restarted {fn.id}", {}, True


def _annotate(fleet: Fleet, c: Controls, fn: Function, params: dict[str, Any]) -> _Planned:
    text = str(params.get("text", "")).strip()
    if not text:
        raise ActionError("annotate: text must not be empty")
    return (f"annotate {fn.id}: {text}", [f"annotation on {fn.id}: {text}"],
            f"annotated {fn.id}", {"text": text}, False)  # fmt: skip


_PLANNERS = {
    "rollback": _rollback,
    "throttle": _throttle,
    "circuit_open": _circuit_open,
    "circuit_close": _circuit_close,
    "scale": _scale,
    "silence": _silence,
    "restart": _restart,
    "annotate": _annotate,
}
