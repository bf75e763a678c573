"""Pure mapping between Callboard and Grafana's annotations API (``/api/annotations``).

Field table (Callboard → Grafana):

| Callboard                         | Grafana annotation |
|-----------------------------------|--------------------|
| ``time`` param (epoch ms, ISO 8601 or Unix seconds), default now | ``time`` (epoch ms) |
| ``time_end`` param                | ``timeEnd`` (epoch ms) |
| ``text`` param, else the request's reason | ``text`` |
| ``incident`` param, ``callboard``, ``function:<id>``, ``tags`` param | ``tags`` |
| ``dashboard_uid`` / ``panel_id`` params (or options) | ``dashboardUID`` / ``panelId`` |
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


def epoch_ms(value: Any, now_s: float) -> int:
    """Epoch milliseconds from ms, Unix seconds, an ISO 8601 string, or None (now).

    Raises:
        ValueError: anything else.
    """
    if value is None or value == "":
        return round(now_s * 1000)
    if isinstance(value, bool):
        raise ValueError(f"expected a time, got {value!r}")
    if isinstance(value, int | float):
        # Below 10^11 a number is seconds (year 5138 in ms is absurd for an annotation).
        return round(value * 1000 if value < 1e11 else value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return epoch_ms(float(text), now_s)
        except ValueError:
            pass
        try:
            t = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"expected a time (epoch ms or ISO 8601), got {value!r}") from None
        if t.tzinfo is None:
            t = t.replace(tzinfo=UTC)
        return round(t.timestamp() * 1000)
    raise ValueError(f"expected a time, got {value!r}")


def tags(function_id: str, params: Mapping[str, Any], extra: tuple[str, ...] = ()) -> list[str]:
    """``callboard``, the incident id, ``function:<id>``, then the caller's tags (no repeats)."""
    out = ["callboard", *extra]
    if params.get("incident"):
        out.append(str(params["incident"]))
    if function_id:
        out.append(f"function:{function_id}")
    raw = params.get("tags") or ()
    out += [raw] if isinstance(raw, str) else [str(t) for t in raw]
    return list(dict.fromkeys(t for t in out if t))


def annotation(
    function_id: str,
    params: Mapping[str, Any],
    reason: str,
    now_s: float,
    *,
    dashboard_uid: str | None = None,
    panel_id: int | None = None,
    extra_tags: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The JSON body of ``POST /api/annotations``. Raises ValueError for a bad time."""
    body: dict[str, Any] = {
        "time": epoch_ms(params.get("time"), now_s),
        "tags": tags(function_id, params, extra_tags),
        "text": str(params.get("text") or reason or f"callboard: {function_id}"),
    }
    if params.get("time_end") is not None:
        body["timeEnd"] = epoch_ms(params["time_end"], now_s)
    uid = params.get("dashboard_uid") or dashboard_uid
    if uid:
        body["dashboardUID"] = str(uid)
    panel = params.get("panel_id", panel_id)
    if panel is not None:
        body["panelId"] = int(panel)
    return body


def annotation_id(payload: Any) -> int | None:
    """The id Grafana gives the new annotation (``{"message": ..., "id": 42}``)."""
    if isinstance(payload, Mapping) and isinstance(payload.get("id"), int):
        return int(payload["id"])
    return None
