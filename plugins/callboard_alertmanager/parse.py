"""Pure mapping from Alertmanager API v2 payloads to Callboard's model. No I/O.

=================================  =====================================================
``gettableAlert``                  ``Alert``
=================================  =====================================================
``labels.alertname``               ``name``
``labels.severity``                ``severity`` (``""`` when absent)
``status.state``                   ``state``: ``active``/``unprocessed`` → ``firing``;
                                   ``suppressed`` → ``silenced`` (``silencedBy`` set),
                                   ``inhibited`` (``inhibitedBy`` only), else
                                   ``suppressed``
``status.silencedBy``              ``silence_ids``; ``silenced_until`` = the latest
                                   ``endsAt`` of those silences (from ``/api/v2/silences``)
``startsAt`` (RFC3339)             ``since`` (``YYYY-MM-DDTHH:MM:SSZ``, UTC)
``annotations.summary``            ``summary`` (else ``description``)
``labels``                         ``labels``, plus canonical ``service``/``operation``
                                   copies when the label map names other labels
                                   (for attaching only); ``identity`` = the alert's
                                   *own* labels the label map found, per role
=================================  =====================================================

The default label map recognises the prometheus presets' labels (OTel semconv,
prometheus_client's ``job``/``handler``/``method``), Sloth's generated alerts
(``sloth_service``, ``sloth_slo``, ``sloth_id``) and Pyrra's (``slo``, plus the ``job``,
``handler`` … labels of the objective's selector or grouping).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from console.core.model import Alert, Function
from console.errors import BadResponse

#: Role → label names, first present wins: the prometheus presets' identity labels,
#: Sloth's (``sloth_service``; ``sloth_slo``/``sloth_id`` name the SLO) and Pyrra's (``slo``;
#: its alerts carry the selector's ``job``/``handler``). ``slo`` narrows a silence, it does
#: not attach an alert (an SLO of a service concerns every function of the service).
DEFAULT_LABEL_MAP: dict[str, tuple[str, ...]] = {
    "function": ("function", "function_id"),
    "service": ("service_name", "service", "sloth_service", "job"),
    "route": ("http_route", "route", "handler"),
    "method": ("http_request_method", "method"),
    "slo": ("sloth_slo", "slo", "sloth_id"),
}
#: The roles whose labels identify an alert's function, in matcher order.
IDENTITY_ROLES = ("function", "service", "route", "method", "slo")
_STATE = {"active": "firing", "unprocessed": "firing", "suppressed": "suppressed"}
_MATCHER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$')


def timestamp(raw: Any) -> str:
    """An RFC3339 time as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC; ``""`` when unreadable."""
    if not isinstance(raw, str) or not raw:
        return ""
    text = re.sub(r"(\.\d{6})\d+", r"\1", raw.strip()).replace("Z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return ""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _first(labels: Mapping[str, str], names: Sequence[str]) -> str | None:
    return next((labels[n] for n in names if labels.get(n)), None)


def function_of(labels: Mapping[str, str], label_map: Mapping[str, Sequence[str]]) -> str | None:
    """The function id the labels name *exactly*, else None (the engine matches by labels)."""
    named = _first(labels, label_map.get("function", ()))
    if named:
        return named
    service = _first(labels, label_map.get("service", ()))
    route = _first(labels, label_map.get("route", ()))
    method = _first(labels, label_map.get("method", ()))
    if service and route and method:
        return Function.make_id(service, f"{method} {route}")
    return None


def identity(labels: Mapping[str, str], label_map: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """The labels (name → value) that identify the alert's function: per role, the first
    of the label map's names the alert carries."""
    out: dict[str, str] = {}
    for role in IDENTITY_ROLES:
        name = next((n for n in label_map.get(role, ()) if labels.get(n)), None)
        if name is not None:
            out[name] = labels[name]
    return out


def _ids(raw: Any) -> tuple[str, ...]:
    return tuple(str(x) for x in raw) if isinstance(raw, list) else ()


def alert(
    item: Any,
    label_map: Mapping[str, Sequence[str]],
    source: str,
    silence_ends: Mapping[str, str] | None = None,
) -> Alert | None:
    """One ``gettableAlert`` as an Alert; None for an entry without labels.

    ``silence_ends`` maps silence id → its end (from :func:`silence_ends`).
    """
    if not isinstance(item, Mapping) or not isinstance(item.get("labels"), Mapping):
        return None
    labels = {str(k): str(v) for k, v in item["labels"].items()}
    ann: Mapping[str, Any] = item.get("annotations") or {}
    status: Mapping[str, Any] = item.get("status") or {}
    if not isinstance(ann, Mapping):
        ann = {}
    if not isinstance(status, Mapping):
        status = {}
    state = _STATE.get(str(status.get("state", "active")), str(status.get("state")))
    silenced_by = _ids(status.get("silencedBy"))
    until = None
    if state == "suppressed" and silenced_by:
        state = "silenced"
        ends = [e for e in ((silence_ends or {}).get(i) for i in silenced_by) if e]
        until = max(ends) if ends else None
    elif state == "suppressed" and _ids(status.get("inhibitedBy")):
        state = "inhibited"
    aliased = dict(labels)
    service = _first(labels, label_map.get("service", ()))
    route = _first(labels, label_map.get("route", ()))
    if service and "service" not in aliased:
        aliased["service"] = service
    if route and "operation" not in aliased:
        aliased["operation"] = route
    return Alert(
        name=labels.get("alertname", "(unnamed)"),
        severity=labels.get("severity", "") or labels.get("sloth_severity", ""),
        state=state,
        since=timestamp(item.get("startsAt")),
        summary=str(ann.get("summary") or ann.get("description") or ""),
        labels=aliased,
        function_id=function_of(labels, label_map),
        source=source,
        identity=identity(labels, label_map),
        silenced_until=until,
        silence_ids=silenced_by if state == "silenced" else (),
    )


def silenced_ids(payload: Any) -> set[str]:
    """The silence ids any alert of a ``GET /api/v2/alerts`` payload is muted by."""
    out: set[str] = set()
    for item in payload if isinstance(payload, list) else ():
        status = item.get("status") if isinstance(item, Mapping) else None
        if isinstance(status, Mapping):
            out.update(_ids(status.get("silencedBy")))
    return out


def silence_ends(payload: Any) -> dict[str, str]:
    """``GET /api/v2/silences`` as silence id → ``endsAt`` (``YYYY-MM-DDTHH:MM:SSZ``)."""
    out: dict[str, str] = {}
    for s in payload if isinstance(payload, list) else ():
        if isinstance(s, Mapping) and isinstance(s.get("id"), str):
            end = timestamp(s.get("endsAt"))
            if end:
                out[s["id"]] = end
    return out


def alerts(
    payload: Any,
    label_map: Mapping[str, Sequence[str]],
    source: str,
    silence_ends: Mapping[str, str] | None = None,
) -> list[Alert]:
    """``GET /api/v2/alerts`` as Alerts, oldest first.

    Raises:
        BadResponse: the payload is not a list.
    """
    if not isinstance(payload, list):
        raise BadResponse("Alertmanager /api/v2/alerts did not return a list")
    out = [a for a in (alert(i, label_map, source, silence_ends) for i in payload) if a is not None]
    out.sort(key=lambda a: (a.since, a.name))
    return out


def matcher(spec: Any) -> dict[str, Any]:
    """A silence matcher from ``'name="v"'``, ``'name=~"re"'``, ``!=``, ``!~`` or a mapping.

    Raises:
        ValueError: an unreadable matcher.
    """
    if isinstance(spec, Mapping):
        name, value = spec.get("name"), spec.get("value")
        if not isinstance(name, str) or not isinstance(value, str) or not name:
            raise ValueError(f"matcher needs a name and a value: {dict(spec)!r}")
        return {
            "name": name,
            "value": value,
            "isRegex": bool(spec.get("isRegex", False)),
            "isEqual": bool(spec.get("isEqual", True)),
        }
    m = _MATCHER.match(spec) if isinstance(spec, str) else None
    if m is None:
        raise ValueError(f'not a matcher: {spec!r} (expected name="value" or name=~"regex")')
    name, op, value = m.groups()
    return {"name": name, "value": value, "isRegex": "~" in op, "isEqual": not op.startswith("!")}


def show_matcher(m: Mapping[str, Any]) -> str:
    """``name="value"``, ``name=~"re"``, ``name!="v"`` or ``name!~"re"``."""
    op = ("=" if m.get("isEqual", True) else "!") + ("~" if m["isRegex"] else "")
    op = {"!": "!="}.get(op, op)
    return f'{m["name"]}{op}"{m["value"]}"'
