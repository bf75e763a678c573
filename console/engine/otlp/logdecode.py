"""One OTLP logs request body → a :class:`LogBatch`, bounded; run off the event loop.

The logs twin of :mod:`console.engine.otlp.decode`: gunzip (bounded), protobuf
(:mod:`console.engine.otlp.logproto`) or JSON (its ``{`` ``[`` ``,`` bytes counted before
``json.loads``), then one mapping (:func:`console.core.otlp_logs.parse_resource_logs`).
Errors are :class:`HttpError` only: 400 for undecodable or over-limit data, 413 for a
decompressed body over the byte limit.
"""

from __future__ import annotations

import json
import time
from typing import Any

from console.core.otlp_limits import LimitError, NumberError
from console.core.otlp_logs import LogBatch, LogLimits, parse_resource_logs
from console.engine.otlp.decode import PROTOBUF, _finite_float, _no_constant, _short, gunzip
from console.engine.otlp.http11 import HttpError
from console.engine.otlp.logproto import decode_logs_request


def decode_logs_body(
    body: bytes | bytearray,
    ctype: str,
    *,
    gzip: bool,
    max_decoded: int,
    limits: LogLimits,
    now_ns: int | None = None,
) -> LogBatch:
    """The request body → log records. Raises HttpError (400 or 413) and nothing else."""
    if gzip:
        body = gunzip(body, max_decoded)
    what = "protobuf ExportLogsServiceRequest" if ctype == PROTOBUF else "OTLP JSON logs"
    now = time.time_ns() if now_ns is None else now_ns
    try:
        if ctype == PROTOBUF:
            doc = decode_logs_request(body, limits)
            return parse_resource_logs(
                doc["resourceLogs"], id_encoding="auto", limits=limits, now_ns=now
            )
        return parse_resource_logs(
            _json(body, limits), id_encoding="hex", limits=limits, now_ns=now
        )
    except (LimitError, NumberError) as exc:
        raise HttpError(400, f"{what} refused: {exc}") from None
    except (ValueError, RecursionError, TypeError, AttributeError, KeyError) as exc:
        raise HttpError(400, f"not a valid {what}: {_short(exc)}") from None


def _json(body: bytes | bytearray, limits: LogLimits) -> Any:
    tokens = body.count(b"{") + body.count(b"[") + body.count(b",")
    if tokens > limits.max_json_tokens:
        raise LimitError(
            f"{tokens} JSON values in one request (limit {limits.max_json_tokens}); "
            "send smaller batches"
        )
    doc = json.loads(body, parse_constant=_no_constant, parse_float=_finite_float)
    if not isinstance(doc, dict):
        raise ValueError("the body is not a JSON object")
    return doc.get("resourceLogs")
