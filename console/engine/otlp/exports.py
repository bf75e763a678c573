"""How each OTLP signal's export is answered (``/v1/traces``, ``/v1/metrics``, ``/v1/logs``):
what it stores, named in a 503's message, the key of the JSON ``partialSuccess`` count and
the protobuf response encoder. :meth:`OtlpReceiver.store_batch
<console.engine.otlp.receiver.OtlpReceiver.store_batch>` answers all three the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from console.engine.otlp.logproto import encode_logs_response
from console.engine.otlp.proto import encode_export_response
from console.engine.otlp.proto_metrics import encode_metrics_response


@dataclass(frozen=True)
class Signal:
    """One signal's answer: ``what`` it stores, its ``rejected_key`` and ``encode``."""

    what: str
    rejected_key: str
    encode: Callable[[int, str], bytes]


SPANS = Signal("spans", "rejectedSpans", encode_export_response)
METRICS = Signal("metrics", "rejectedDataPoints", encode_metrics_response)
LOGS = Signal("log records", "rejectedLogRecords", encode_logs_response)
