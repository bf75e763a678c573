"""The ``status --json`` contract (DESIGN.md): a FleetSnapshot as plain JSON data.

Fields may be added; none may be removed. A missing measurement is ``null``.
"""

from __future__ import annotations

from typing import Any

from console.core.alerts import own_labels
from console.core.model import Alert, BackendStatus, Deploy, Finding, Signals
from console.core.snapshot import FleetSnapshot, FunctionHealth


def _r(x: float | None, nd: int = 4) -> float | None:
    return None if x is None else round(x, nd)


def signals_json(s: Signals, h: FunctionHealth) -> dict[str, Any]:
    burn = h.burn
    return {
        "success_rate": _r(s.success_rate, 6),
        "p50_ms": _r(s.p50_ms, 1),
        "p95_ms": _r(s.p95_ms, 1),
        "p99_ms": _r(s.p99_ms, 1),
        "latency_capped": list(s.latency_capped),
        "rate_rps": _r(s.rate_rps, 3),
        "error_5xx_rate": _r(s.error_5xx_rate, 6),
        "timeout_rate": _r(s.timeout_rate, 6),
        "throttle_rate": _r(s.throttle_rate, 6),
        "auth_error_rate": _r(s.auth_error_rate, 6),
        "serialization_error_rate": _r(s.serialization_error_rate, 6),
        "retry_rate": _r(s.retry_rate, 6),
        "cold_start_rate": _r(s.cold_start_rate, 6),
        "cpu": _r(s.cpu),
        "memory": _r(s.memory),
        "queue_length": _r(s.queue_length, 1),
        "cost_per_1k": _r(s.cost_per_1k),
        "availability": _r(s.availability, 6),
        "burn_rate_5m": _r(burn.rates.get("5m"), 2) if burn else None,
        "burn_rate_1h": _r(burn.rates.get("1h"), 2) if burn else None,
        "burn_rate_6h": _r(burn.rates.get("6h"), 2) if burn else None,
        "burn_rate_3d": _r(burn.rates.get("3d"), 2) if burn else None,
        "budget_remaining": _r(burn.budget_remaining) if burn else None,
    }


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "mode": f.mode.value,
        "name": f.name,
        "severity": f.severity.value,
        "evidence": f.evidence,
        "values": {k: _r(v, 6) for k, v in f.values.items()},
        "runbooks": list(f.runbooks),
    }


def alert_json(a: Alert) -> dict[str, Any]:
    """``state`` is ``firing``, ``silenced`` (then ``silenced_until`` and ``silence_ids``
    say until when and by which silences), ``inhibited`` or ``suppressed``."""
    return {
        "name": a.name,
        "severity": a.severity,
        "state": a.state,
        "since": a.since,
        "summary": a.summary,
        "silenced_until": a.silenced_until,
        "silence_ids": list(a.silence_ids),
    }


def unmatched_json(a: Alert) -> dict[str, Any]:
    """An alert that attached to no function: its backend and its own labels too."""
    return {**alert_json(a), "backend": a.source, "labels": dict(sorted(own_labels(a).items()))}


def backend_json(b: BackendStatus) -> dict[str, Any]:
    return {
        "name": b.name,
        "plugin": b.plugin,
        "ok": b.ok,
        "error": b.error,
        "latency_ms": b.latency_ms,
        "stale_s": b.stale_s,
        "warnings": list(b.warnings),
    }


def function_json(h: FunctionHealth) -> dict[str, Any]:
    f = h.function
    return {
        "id": f.id,
        "service": f.service,
        "operation": f.operation,
        "kind": f.kind.value,
        "owner": f.owner,
        "oncall": f.oncall,
        "tier": f.tier,
        "system": f.system,
        "lifecycle": f.lifecycle,
        "dependencies": list(f.dependencies),
        "slo": {"objective": f.slo.objective, "window": f.slo.window},
        "signals": signals_json(h.signals, h),
        "burn": {
            "page": h.burn.page,
            "ticket": h.burn.ticket,
            "low_traffic": h.burn.low_traffic,
        }
        if h.burn
        else None,
        "findings": [finding_json(x) for x in h.findings],
        "alerts": [alert_json(a) for a in h.alerts],
    }


def snapshot_json(snap: FleetSnapshot) -> dict[str, Any]:
    """The whole ``status --json`` document."""
    return {
        "generated_at": snap.generated_at,
        "environment": {"name": snap.environment, "production": snap.production},
        "read_only": snap.read_only,
        "backends": [backend_json(b) for b in snap.backends],
        "functions": [function_json(h) for h in snap.functions],
        "unmatched_alerts": [unmatched_json(a) for a in snap.unmatched_alerts],
        "deploys": [
            deploy_json(deploy, service, functions)
            for deploy, service, functions in unique_deploys(snap)
        ],
    }


def unique_deploys(snap: FleetSnapshot) -> list[tuple[Deploy, str, tuple[str, ...]]]:
    """Each deploy once, newest first, with its service and the functions it affects.

    The snapshot keys deploys by function, so a deploy of a whole service is listed under
    each of its functions; here it becomes one entry again.
    """
    by_id = snap.by_id()
    seen: dict[tuple[Any, ...], tuple[Deploy, str, list[str]]] = {}
    for fid, deploys in snap.deploys.items():
        h = by_id.get(fid)
        for d in deploys:
            key = (d.function_id, d.version, d.previous_version, d.at, d.author, d.description)
            entry = seen.get(key)
            if entry is None:
                # A deploy names a function id or a service; either way, the service is
                # the affected function's.
                service = h.function.service if h is not None else d.function_id
                entry = seen[key] = (d, service, [])
            entry[2].append(fid)
    out = [(d, service, tuple(sorted(set(fids)))) for d, service, fids in seen.values()]
    out.sort(key=lambda x: (x[0].at, x[1], x[0].version), reverse=True)
    return out


def deploy_json(d: Deploy, service: str, functions: tuple[str, ...]) -> dict[str, Any]:
    """One deploy: its ``service``, the ``functions`` it affects (ids), and what changed.

    ``function_id`` is kept for older readers: the function id when the deploy names one
    function, null for a deploy of a whole service (use ``functions``).
    """
    return {
        "service": service,
        "functions": list(functions),
        "function_id": d.function_id if d.function_id in functions else None,
        "version": d.version,
        "previous_version": d.previous_version,
        "at": d.at,
        "author": d.author,
        "description": d.description,
    }
