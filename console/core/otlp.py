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
from console.core.otlp_limits import DecodeLimits, LimitError, NumberError, finite, int64

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


def any_value(v: Any, limits: DecodeLimits | None = None) -> Any:
    """An OTLP ``AnyValue`` as a plain Python value (bytes become base64 text).

    With ``limits`` (the receiver) it is strict: numbers must be finite and in range
    (NumberError) and strings no longer than ``max_value_length`` (ValueError). Without
    (a backend's answer) a value it cannot convert is kept as it came.
    """
    if not isinstance(v, Mapping):
        return v
    if "stringValue" in v:
        return _text(v["stringValue"], limits)
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "intValue" in v:
        if limits is not None:
            return int64(v["intValue"])
        try:
            return int(v["intValue"])
        except (TypeError, ValueError, OverflowError):
            return v["intValue"]
    if "doubleValue" in v:
        if limits is not None:
            return finite(v["doubleValue"])
        return float(v["doubleValue"])
    if "arrayValue" in v:
        return [any_value(x, limits) for x in (v["arrayValue"] or {}).get("values") or ()]
    if "kvlistValue" in v:
        return attributes((v["kvlistValue"] or {}).get("values"), limits)
    if "bytesValue" in v:
        b = v["bytesValue"]
        _text(b, limits)
        return base64.b64encode(b).decode() if isinstance(b, bytes | bytearray) else b
    return None


def _text(value: Any, limits: DecodeLimits | None) -> Any:
    too_long = (
        limits is not None
        and isinstance(value, str | bytes | bytearray)
        and len(value) > limits.max_value_length
    )
    if too_long:
        assert limits is not None
        raise ValueError(f"a value of {len(value)} characters (limit {limits.max_value_length})")
    return value


def attributes(kvs: Any, limits: DecodeLimits | None = None) -> dict[str, Any]:
    """``[KeyValue]`` → ``{key: value}`` (entries without a key are skipped)."""
    if limits is not None and isinstance(kvs, list) and len(kvs) > limits.max_attributes:
        raise ValueError(f"{len(kvs)} attributes (limit {limits.max_attributes})")
    out: dict[str, Any] = {}
    for kv in kvs or ():
        if isinstance(kv, Mapping) and kv.get("key"):
            out[str(_text(kv["key"], limits))] = any_value(kv.get("value"), limits)
    return out


def _span(
    raw: Mapping[str, Any], service: str, enc: traces.Encoding, limits: DecodeLimits | None
) -> Span:
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
    raw_events = raw.get("events") or ()
    if limits is not None and len(raw_events) > limits.max_events:
        raise ValueError(f"{len(raw_events)} events (limit {limits.max_events})")
    events = tuple(
        {
            "name": str(_text(e.get("name", ""), limits)),
            "time_unix_nano": uint64(e.get("timeUnixNano")),
            "attributes": attributes(e.get("attributes"), limits),
        }
        for e in raw_events
    )
    return Span(
        trace_id=traces.trace_id(raw.get("traceId"), enc),
        span_id=traces.span_id(raw.get("spanId"), enc),
        parent_id=traces.parent_id(raw.get("parentSpanId"), enc),
        service=service,
        name=str(_text(raw.get("name", ""), limits)),
        start_ns=start,
        duration_ns=end - start if end else 0,
        kind=KIND[kind],
        status=STATUS[code],
        status_message=str(_text(status.get("message", ""), limits)),
        attributes=attributes(raw.get("attributes"), limits),
        events=events,
    )


def parse_resource_spans(
    resource_spans: Any,
    *,
    id_encoding: traces.Encoding = "hex",
    limits: DecodeLimits | None = None,
) -> SpanBatch:
    """Map a ``resourceSpans`` (or Tempo ``batches``) list to spans.

    A span that breaks a rule (bad id, bad time, unknown enum, over a per-span limit) is
    rejected on its own and counted; the rest are kept. A wrong *shape* (not lists/objects
    where OTLP has them) raises ValueError: the payload as a whole is not OTLP. With
    ``limits`` (the receiver), a request over a request-wide bound raises LimitError and a
    bad number anywhere raises NumberError (both: the request is refused as a whole).
    """
    if resource_spans is None:
        return SpanBatch()
    if not isinstance(resource_spans, list):
        raise ValueError("resourceSpans is not a list")
    if limits is not None:
        check_counts(resource_spans, limits)
    batch = SpanBatch()
    for rs in resource_spans:
        if not isinstance(rs, Mapping):
            raise ValueError("a resourceSpans entry is not an object")
        try:
            resource = attributes((rs.get("resource") or {}).get("attributes"), limits)
        except NumberError:
            raise
        except ValueError as exc:
            raise LimitError(f"resource: {exc}") from None
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
                    batch.spans.append(_span(raw, service, id_encoding, limits))
                except NumberError:
                    raise
                except (ValueError, TypeError, AttributeError) as exc:
                    batch.reject(f"span {_show_id(raw.get('spanId'))}: {exc}")
    return batch


def _show_id(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return value.hex() or "(empty)"
    return repr(value)[:40]


def check_counts(resource_spans: list[Any], limits: DecodeLimits) -> None:
    """Raise LimitError when there are more resource, scope or span entries than allowed
    (lengths only: cheap, before any span is mapped)."""
    _over("resource_spans entries", len(resource_spans), limits.max_resource_spans)
    scopes = spans = 0
    for rs in resource_spans:
        ss_list = (
            (rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans"))
            if isinstance(rs, Mapping)
            else None
        )
        if not isinstance(ss_list, list):
            continue
        scopes += len(ss_list)
        for ss in ss_list:
            sp = ss.get("spans") if isinstance(ss, Mapping) else None
            spans += len(sp) if isinstance(sp, list) else 0
    _over("scope_spans entries", scopes, limits.max_scope_spans)
    _over("spans", spans, limits.max_spans)


def _over(what: str, n: int, limit: int) -> None:
    if n > limit:
        raise LimitError(f"{n} {what} in one request (limit {limit}); send smaller batches")
