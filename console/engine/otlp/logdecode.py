"""One OTLP logs request body → a :class:`LogBatch`, bounded; run off the event loop.

The logs twin of :mod:`console.engine.otlp.decode`: gunzip (bounded), protobuf
(:mod:`console.engine.otlp.logproto`) or JSON (its ``{`` ``[`` ``,`` bytes counted before
``json.loads``), then one mapping (:func:`console.core.otlp_logs.parse_resource_logs`).
Errors are :class:`HttpError` only: 400 for undecodable or over-limit data, 413 for a
decompressed body over the byte limit.
"""

from __future__ import annotations

import time

from console.core.otlp_logs import LogBatch, LogLimits, parse_resource_logs
from console.engine.otlp.decode import decode_request, json_request
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
    now = time.time_ns() if now_ns is None else now_ns

    def parse(raw: bytes | bytearray, protobuf: bool) -> LogBatch:
        if protobuf:
            found = decode_logs_request(raw, limits)["resourceLogs"]
            return parse_resource_logs(found, id_encoding="auto", limits=limits, now_ns=now)
        found = json_request(raw, limits.max_json_tokens, "resourceLogs")
        return parse_resource_logs(found, id_encoding="hex", limits=limits, now_ns=now)

    return decode_request(
        body, ctype, gzip=gzip, max_decoded=max_decoded,
        protobuf_name="ExportLogsServiceRequest", json_name="OTLP JSON logs", parse=parse,
    )  # fmt: skip
