"""OTLP trace data (``TracesData`` / ``ExportTraceServiceRequest``) → normalised spans.

One mapping for the four places OTLP-shaped spans come from: OTLP/HTTP JSON (hex ids,
integer enums), Jaeger api_v3 (the same), Tempo (gogo jsonpb: base64 ids, enum *names*,
zero values omitted) and the receiver's protobuf decoder (raw bytes ids, ints). Decoders
accept 64-bit integers as numbers or decimal strings and ignore unknown fields.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from console.core import traces
from console.core.model import Span

#: OTLP ``Span.SpanKind`` → normalised kind (UNSPECIFIED is treated as INTERNAL, as the spec allows).
KIND: Mapping[int | str, str] = {
    0: "internal",
    1: "internal",
    2: "server",
    3: "client",
    4: "producer",
    5: "consumer",
    "SPAN_KIND_UNSPECIFIED": "internal",
    "SPAN_KIND_INTERNAL": "internal",
    "SPAN_KIND_SERVER": "server",
    "SPAN_KIND_CLIENT": "client",
    "SPAN_KIND_PRODUCER": "producer",
    "SPAN_KIND_CONSUMER": "consumer",
}

#: OTLP ``Status.StatusCode`` → normalised status (a missing status is UNSET).
STATUS: Mapping[int | str, str] = {
    0: "unset",
    1: "ok",
    2: "error",
    "STATUS_CODE_UNSET": "unset",
    "STATUS_CODE_OK": "ok",
    "STATUS_CODE_ERROR": "error",
}

#: OTLP span field → meaning (JSON names; the protobuf decoder produces the same keys).
SPAN_FIELDS: Mapping[str, str] = {
    "traceId": "trace id (hex in OTLP JSON, base64 in gogo jsonpb, bytes in protobuf)",
    "spanId": "span id",
    "parentSpanId": "parent span id; absent or empty on a root",
    "name": "span name",
    "kind": "SpanKind, integer or enum name",
    "startTimeUnixNano": "start, ns since epoch (uint64, number or decimal string)",
    "endTimeUnixNano": "end, ns since epoch; duration = end - start",
    "attributes": "[KeyValue]",
    "events": "[{timeUnixNano, name, attributes}]",
    "status": "{code, message}; missing means UNSET",
}

MAX_NS = 2**63 - 1  # what SQLite and our int fields can hold


@dataclass
class SpanBatch:
    """Spans decoded from one payload, and the spans rejected as invalid (with why)."""

    spans: list[Span] = field(default_factory=list)
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    def reject(self, why: str) -> None:
        self.rejected += 1
        if len(self.errors) < 5:  # enough to explain, bounded for a flood of bad spans
            self.errors.append(why)


def uint64(value: Any) -> int:
    """A uint64 sent as a number or a decimal string. Raises ValueError."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        raise ValueError(f"not an integer: {value!r}")
    n = int(value) if isinstance(value, int | str) else int(str(value))
    if n < 0 or n > MAX_NS:
        raise ValueError(f"out of range: {value!r}")
    return n


def any_value(v: Any) -> Any:
    """An OTLP ``AnyValue`` as a plain Python value (bytes become base64 text)."""
    if not isinstance(v, Mapping):
        return v
    if "stringValue" in v:
        return v["stringValue"]
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "intValue" in v:
        try:
            return int(v["intValue"])
        except (TypeError, ValueError):
            return v["intValue"]
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "arrayValue" in v:
        return [any_value(x) for x in (v["arrayValue"] or {}).get("values") or ()]
    if "kvlistValue" in v:
        return attributes((v["kvlistValue"] or {}).get("values"))
    if "bytesValue" in v:
        b = v["bytesValue"]
        return base64.b64encode(b).decode() if isinstance(b, bytes | bytearray) else b
    return None


def attributes(kvs: Any) -> dict[str, Any]:
    """``[KeyValue]`` → ``{key: value}`` (entries without a key are skipped)."""
    out: dict[str, Any] = {}
    for kv in kvs or ():
        if isinstance(kv, Mapping) and kv.get("key"):
            out[str(kv["key"])] = any_value(kv.get("value"))
    return out


def _span(raw: Mapping[str, Any], service: str, enc: traces.Encoding) -> Span:
    start = uint64(raw.get("startTimeUnixNano"))
    end = uint64(raw.get("endTimeUnixNano"))
    if end and end < start:
        raise ValueError("endTimeUnixNano is before startTimeUnixNano")
    status = raw.get("status") or {}
    kind = raw.get("kind", 0)
    code = status.get("code", 0)
    if kind not in KIND:
        raise ValueError(f"unknown span kind {kind!r}")
    if code not in STATUS:
        raise ValueError(f"unknown status code {code!r}")
    events = tuple(
        {
            "name": str(e.get("name", "")),
            "time_unix_nano": uint64(e.get("timeUnixNano")),
            "attributes": attributes(e.get("attributes")),
        }
        for e in raw.get("events") or ()
    )
    return Span(
        trace_id=traces.trace_id(raw.get("traceId"), enc),
        span_id=traces.span_id(raw.get("spanId"), enc),
        parent_id=traces.parent_id(raw.get("parentSpanId"), enc),
        service=service,
        name=str(raw.get("name", "")),
        start_ns=start,
        duration_ns=end - start if end else 0,
        kind=KIND[kind],
        status=STATUS[code],
        status_message=str(status.get("message", "")),
        attributes=attributes(raw.get("attributes")),
        events=events,
    )


def parse_resource_spans(resource_spans: Any, *, id_encoding: traces.Encoding = "hex") -> SpanBatch:
    """Map a ``resourceSpans`` (or Tempo ``batches``) list to spans.

    A span that breaks a rule (bad id, bad time, unknown enum) is rejected on its own and
    counted; the rest are kept. A wrong *shape* (not lists/objects where OTLP has them)
    raises ValueError: the payload as a whole is not OTLP.
    """
    if resource_spans is None:
        return SpanBatch()
    if not isinstance(resource_spans, list):
        raise ValueError("resourceSpans is not a list")
    batch = SpanBatch()
    for rs in resource_spans:
        if not isinstance(rs, Mapping):
            raise ValueError("a resourceSpans entry is not an object")
        resource = attributes((rs.get("resource") or {}).get("attributes"))
        service = str(resource.get("service.name") or "unknown_service")
        # scopeSpans; instrumentationLibrarySpans is the pre-1.0 name some old senders use.
        scopes = rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or []
        if not isinstance(scopes, list):
            raise ValueError("scopeSpans is not a list")
        for ss in scopes:
            spans = ss.get("spans") if isinstance(ss, Mapping) else None
            if not isinstance(spans, list | None):
                raise ValueError("spans is not a list")
            for raw in spans or ():
                if not isinstance(raw, Mapping):
                    batch.reject("a span is not an object")
                    continue
                try:
                    batch.spans.append(_span(raw, service, id_encoding))
                except (ValueError, TypeError, AttributeError) as exc:
                    batch.reject(f"span {raw.get('spanId')!r}: {exc}")
    return batch
