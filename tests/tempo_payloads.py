"""Hand-built Tempo trace JSON following BACKENDS.md §4 (gogo jsonpb: base64 ids, enum names,
uint64 as strings, ``status: {}`` for UNSET). No real Tempo output is licensed for reuse."""

from __future__ import annotations

from typing import Any

TEMPO_SPANS: list[dict[str, Any]] = [
    {
        "traceId": "MUkZX/sL7AU0e0jv6OzBsA==",
        "spanId": "Vj1iPHZRT44=",
        "name": "update-billing",
        "kind": "SPAN_KIND_SERVER",
        "startTimeUnixNano": "1684778327699392724",
        "endTimeUnixNano": "1684778328256392724",
        "status": {},
    },
    {
        "traceId": "MUkZX/sL7AU0e0jv6OzBsA==",
        "spanId": "APBnqgupArc=",
        "parentSpanId": "Vj1iPHZRT44=",
        "name": "charge",
        "kind": "SPAN_KIND_CLIENT",
        "startTimeUnixNano": "1684778327700000000",
        "endTimeUnixNano": "1684778328146979497",
        "status": {"code": "STATUS_CODE_ERROR", "message": "deadline exceeded"},
        "attributes": [{"key": "http.status_code", "value": {"intValue": "504"}}],
    },
    {
        "traceId": "MUkZX/sL7AU0e0jv6OzBsA==",
        "spanId": "AAAAAAAAAAI=",
        "parentSpanId": "Vj1iPHZRT44=",
        "name": "render",
        "startTimeUnixNano": "1684778328150000000",
        "endTimeUnixNano": "1684778328160000000",
        "status": {"code": "STATUS_CODE_OK"},
    },
]
TEMPO_RESOURCE: dict[str, Any] = {
    "attributes": [{"key": "service.name", "value": {"stringValue": "shop-backend"}}]
}
TEMPO_TID = "3149195ffb0bec05347b48efe8ecc1b0"
