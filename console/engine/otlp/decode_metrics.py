"""One OTLP metrics request body → a :class:`MetricBatch`, bounded; run off the event loop.

The metrics twin of :mod:`console.engine.otlp.decode` (same gunzip bound, the same JSON
pre-count, the same errors): :class:`HttpError` 400 for undecodable or over-limit data,
413 for a decompressed body over the byte limit.
"""

from __future__ import annotations

from console.core.otlp_limits import DecodeLimits
from console.core.otlp_metrics import MetricBatch, parse_resource_metrics
from console.engine.otlp.decode import decode_request, json_request
from console.engine.otlp.proto_metrics import decode_metrics_request


def decode_metrics_body(
    body: bytes | bytearray, ctype: str, *, gzip: bool, max_decoded: int, limits: DecodeLimits
) -> MetricBatch:
    """The request body → metric points. Raises HttpError (400 or 413) and nothing else."""

    def parse(raw: bytes | bytearray, protobuf: bool) -> MetricBatch:
        if protobuf:
            found = decode_metrics_request(raw, limits)["resourceMetrics"]
        else:
            found = json_request(raw, limits.max_json_tokens, "resourceMetrics")
        return parse_resource_metrics(found, limits=limits)

    return decode_request(
        body, ctype, gzip=gzip, max_decoded=max_decoded,
        protobuf_name="ExportMetricsServiceRequest", parse=parse,
    )  # fmt: skip
