"""Pure silence logic: which alerts a silence is for, its matchers, and the read-back.

A silence matches on the firing alert's *own* labels: ``alertname`` plus the labels the
label map found to identify its function (``Alert.identity``), never Callboard's canonical
aliases (``service``/``operation``), which a real alert does not carry. Alerts of one
function that share an identity get one silence (``alertname=~"A|B"`` when several fire);
alerts with different identities get one silence each. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from console.core.alerts import OPERATION_LABELS, attach_alerts
from console.core.model import Alert, Function

from . import parse


def on_function(fn_id: str, alerts: Iterable[Alert]) -> list[Alert]:
    """The alerts that attach to ``fn_id`` by the engine's own rule (labels, aliases),
    minus those that name another function or operation (the engine would attach those
    to the service's other functions; here only this one is known)."""
    service, _, operation = fn_id.partition(":")
    fn = Function(id=fn_id, service=service, operation=operation)
    out = []
    for a in attach_alerts(alerts, [fn]).get(fn_id, []):
        op = next((a.labels[k] for k in OPERATION_LABELS if k in a.labels), None)
        if a.function_id not in (None, fn_id):
            continue
        if op is not None and operation != op and not operation.endswith(" " + op):
            continue
        out.append(a)
    return out


def targets(fn_id: str, alerts: Iterable[Alert], alertname: str | None) -> list[Alert]:
    """The unsilenced alerts of ``fn_id`` a default silence is for (one name if given)."""
    return [
        a
        for a in on_function(fn_id, alerts)
        if a.state == "firing" and (alertname is None or a.name == alertname)
    ]


def _names_matcher(names: Sequence[str]) -> dict[str, Any]:
    if len(names) == 1:
        return parse.matcher({"name": "alertname", "value": names[0]})
    value = "|".join(re.escape(n) for n in names)
    return parse.matcher({"name": "alertname", "value": value, "isRegex": True})


def matcher_sets(firing: Iterable[Alert]) -> list[list[dict[str, Any]]]:
    """One matcher list per distinct identity: ``alertname`` then the identity labels."""
    groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for a in firing:
        key = tuple(a.identity.items())
        names = groups.setdefault(key, [])
        if a.name not in names:
            names.append(a.name)
    return [
        [_names_matcher(sorted(names))] + [parse.matcher({"name": k, "value": v}) for k, v in key]
        for key, names in groups.items()
    ]


def filter_param(m: Mapping[str, Any]) -> str:
    """A matcher as Alertmanager's ``filter`` query syntax, value quoted and escaped."""
    op = {(True, False): "=", (True, True): "=~", (False, False): "!=", (False, True): "!~"}[
        (bool(m.get("isEqual", True)), bool(m["isRegex"]))
    ]
    value = str(m["value"]).replace("\\", "\\\\").replace('"', '\\"')
    return f'{m["name"]}{op}"{value}"'


def read_back(payload: Any, silence_id: str) -> tuple[list[str], list[str]]:
    """From ``GET /api/v2/alerts?filter=…``: (names of alerts this silence now mutes,
    names of matching alerts it does not)."""
    muted: list[str] = []
    loud: list[str] = []
    for item in payload if isinstance(payload, list) else ():
        if not isinstance(item, Mapping) or not isinstance(item.get("labels"), Mapping):
            continue
        name = str(item["labels"].get("alertname", "(unnamed)"))
        status = item.get("status")
        by = status.get("silencedBy") if isinstance(status, Mapping) else None
        (muted if isinstance(by, list) and silence_id in by else loud).append(name)
    return muted, loud


def window_text(seconds: float) -> str:
    """``1200`` → ``20m``, ``5400`` → ``1h30m``, ``90`` → ``1m30s``."""
    s = round(seconds)
    out = ""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if s >= size or (unit == "s" and not out):
            out += f"{s // size}{unit}"
            s %= size
    return out
