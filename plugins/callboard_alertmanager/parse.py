"""Pure mapping from Alertmanager API v2 payloads to Callboard's model. No I/O.

=================================  =====================================================
``gettableAlert``                  ``Alert``
=================================  =====================================================
``labels.alertname``               ``name``
``labels.severity``                ``severity`` (``""`` when absent)
``status.state``                   ``state``: ``active``/``unprocessed`` → ``firing``,
                                   ``suppressed`` → ``suppressed``
``startsAt`` (RFC3339)             ``since`` (``YYYY-MM-DDTHH:MM:SSZ``, UTC)
``annotations.summary``            ``summary`` (else ``description``)
``labels``                         ``labels``, plus canonical ``service``/``operation``
                                   copies when the label map names other labels
=================================  =====================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from console.core.model import Alert, Function
from console.errors import BadResponse

#: Role → label names, first present wins (the prometheus presets' identity labels).
DEFAULT_LABEL_MAP: dict[str, tuple[str, ...]] = {
    "function": ("function", "function_id"),
    "service": ("service_name", "service", "job"),
    "route": ("http_route", "route", "handler"),
    "method": ("http_request_method", "method"),
}
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


def alert(item: Any, label_map: Mapping[str, Sequence[str]], source: str) -> Alert | None:
    """One ``gettableAlert`` as an Alert; None for an entry without labels."""
    if not isinstance(item, Mapping) or not isinstance(item.get("labels"), Mapping):
        return None
    labels = {str(k): str(v) for k, v in item["labels"].items()}
    ann: Mapping[str, Any] = item.get("annotations") or {}
    status: Mapping[str, Any] = item.get("status") or {}
    if not isinstance(ann, Mapping):
        ann = {}
    if not isinstance(status, Mapping):
        status = {}
    state = str(status.get("state", "active"))
    aliased = dict(labels)
    service = _first(labels, label_map.get("service", ()))
    route = _first(labels, label_map.get("route", ()))
    if service and "service" not in aliased:
        aliased["service"] = service
    if route and "operation" not in aliased:
        aliased["operation"] = route
    return Alert(
        name=labels.get("alertname", "(unnamed)"),
        severity=labels.get("severity", ""),
        state=_STATE.get(state, state),
        since=timestamp(item.get("startsAt")),
        summary=str(ann.get("summary") or ann.get("description") or ""),
        labels=aliased,
        function_id=function_of(labels, label_map),
        source=source,
    )


def alerts(payload: Any, label_map: Mapping[str, Sequence[str]], source: str) -> list[Alert]:
    """``GET /api/v2/alerts`` as Alerts, oldest first.

    Raises:
        BadResponse: the payload is not a list.
    """
    if not isinstance(payload, list):
        raise BadResponse("Alertmanager /api/v2/alerts did not return a list")
    out = [a for a in (alert(i, label_map, source) for i in payload) if a is not None]
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


def identity_matchers(
    fn_id: str, firing: Iterable[Alert], label_map: Mapping[str, Sequence[str]]
) -> list[dict[str, Any]]:
    """Matchers for a function's alerts: the identity labels its firing alerts carry, or
    else the first label name of each role with values from the id."""
    roles = ("function", "service", "route", "method")
    for a in firing:
        found = []
        for role in roles:
            name = next((n for n in label_map.get(role, ()) if a.labels.get(n)), None)
            if name is not None:
                found.append(matcher({"name": name, "value": a.labels[name]}))
        if found:
            return found
    service, _, op = fn_id.partition(":")
    method, _, route = op.partition(" ") if " " in op else ("", "", op)
    out = [matcher({"name": label_map["service"][0], "value": service})]
    if route and label_map.get("route"):
        out.append(matcher({"name": label_map["route"][0], "value": route}))
    if method and label_map.get("method"):
        out.append(matcher({"name": label_map["method"][0], "value": method}))
    return out
