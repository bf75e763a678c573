"""Attaching alerts to functions by label matching."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from console.core.model import Alert, Function

#: Label names that may carry a function id, a service, or an operation.
FUNCTION_LABELS: tuple[str, ...] = ("function", "function_id")
SERVICE_LABELS: tuple[str, ...] = ("service", "service_name", "job")
OPERATION_LABELS: tuple[str, ...] = ("operation", "http_route", "route", "handler", "method")


def attach_alerts(
    alerts: Iterable[Alert],
    functions: Sequence[Function],
    label_map: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, list[Alert]]:
    """Map function id → alerts that concern it.

    An alert with ``function_id`` set goes there. Otherwise its labels are matched: a
    ``function`` label naming an id; else a service label plus, when present, an operation
    label naming the operation; an alert with only a service label attaches to every
    function of that service. ``label_map`` overrides the label names per role
    (``{"service": [...], "operation": [...], "function": [...]}``).
    """
    lm = label_map or {}
    fn_labels = tuple(lm.get("function", FUNCTION_LABELS))
    svc_labels = tuple(lm.get("service", SERVICE_LABELS))
    op_labels = tuple(lm.get("operation", OPERATION_LABELS))
    ids = {f.id for f in functions}
    by_service: dict[str, list[Function]] = {}
    for f in functions:
        by_service.setdefault(f.service, []).append(f)
    out: dict[str, list[Alert]] = {}
    for alert in alerts:
        targets: list[str] = []
        if alert.function_id in ids:
            targets = [alert.function_id]
        else:
            named = next((alert.labels[k] for k in fn_labels if k in alert.labels), None)
            if named in ids:
                targets = [named]
            else:
                svc = next((alert.labels[k] for k in svc_labels if k in alert.labels), None)
                op = next((alert.labels[k] for k in op_labels if k in alert.labels), None)
                candidates = by_service.get(svc or "", [])
                if op is not None:
                    matched = [
                        f.id
                        for f in candidates
                        if f.operation == op or f.operation.endswith(" " + op)
                    ]
                    targets = matched or [f.id for f in candidates]
                else:
                    targets = [f.id for f in candidates]
        for t in targets:
            out.setdefault(t, []).append(alert)
    return out


def unmatched_alerts(
    alerts: Iterable[Alert], attached: Mapping[str, Sequence[Alert]]
) -> tuple[Alert, ...]:
    """The alerts :func:`attach_alerts` put on no function, in their order: listed under
    their backend (``status --json`` ``unmatched_alerts``, the backends screen), never
    dropped without a word."""
    seen = {id(a) for al in attached.values() for a in al}
    return tuple(a for a in alerts if id(a) not in seen)


def unmatched_by_backend(unmatched: Iterable[Alert]) -> dict[str, list[Alert]]:
    """Backend name → its unmatched alerts."""
    out: dict[str, list[Alert]] = {}
    for a in unmatched:
        out.setdefault(a.source, []).append(a)
    return out


def unmatched_note(count: int) -> str:
    """``1 alert matched no function`` / ``3 alerts matched no function``."""
    return f"{count} alert{'' if count == 1 else 's'} matched no function"


def own_labels(alert: Alert) -> dict[str, str]:
    """The alert's labels without the canonical ``service``/``operation`` copies a backend
    adds for attaching (a copy repeats another label's value and identifies nothing)."""
    labels = dict(alert.labels)
    for alias in ("service", "operation"):
        value = labels.get(alias)
        copied = any(v == value for k, v in labels.items() if k != alias)
        if value is not None and alias not in alert.identity and copied:
            del labels[alias]
    return labels
