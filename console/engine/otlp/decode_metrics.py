"""One OTLP metrics request body → a :class:`MetricBatch`, bounded; run off the event loop.

The metrics twin of :mod:`console.engine.otlp.decode` (same gunzip bound, the same JSON
pre-count, the same errors): :class:`HttpError` 400 for undecodable or over-limit data,
413 for a decompressed body over the byte limit.
"""

from __future__ import annotations

import json
from typing import Any

from console.core.otlp_limits import DecodeLimits, LimitError, NumberError
from console.core.otlp_metrics import MetricBatch, parse_resource_metrics
from console.engine.otlp.decode import PROTOBUF, _finite_float, _no_constant, _short, gunzip
from console.engine.otlp.http11 import HttpError
from console.engine.otlp.proto_metrics import decode_metrics_request


def decode_metrics_body(
    body: bytes | bytearray, ctype: str, *, gzip: bool, max_decoded: int, limits: DecodeLimits
) -> MetricBatch:
    """The request body → metric points. Raises HttpError (400 or 413) and nothing else."""
    if gzip:
        body = gunzip(body, max_decoded)
    what = "protobuf ExportMetricsServiceRequest" if ctype == PROTOBUF else "OTLP JSON"
    try:
        if ctype == PROTOBUF:
            doc = decode_metrics_request(body, limits)
            return parse_resource_metrics(doc["resourceMetrics"], limits=limits)
        return parse_resource_metrics(_json(body, limits), limits=limits)
    except (LimitError, NumberError) as exc:
        raise HttpError(400, f"{what} refused: {exc}") from None
    except (ValueError, RecursionError, TypeError, AttributeError, KeyError) as exc:
        raise HttpError(400, f"not a valid {what}: {_short(exc)}") from None


def _json(body: bytes | bytearray, limits: DecodeLimits) -> Any:
    tokens = body.count(b"{") + body.count(b"[") + body.count(b",")
    if tokens > limits.max_json_tokens:
        raise LimitError(
            f"{tokens} JSON values in one request (limit {limits.max_json_tokens}); "
            "send smaller batches"
        )
    doc = json.loads(body, parse_constant=_no_constant, parse_float=_finite_float)
    if not isinstance(doc, dict):
        raise ValueError("the body is not a JSON object")
    return doc.get("resourceMetrics")
