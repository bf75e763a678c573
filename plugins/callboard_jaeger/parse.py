"""Jaeger payloads → normalised traces. Pure functions, explicit field tables.

Two shapes: api_v3 (OTLP JSON inside ``{"result": …}``, hex ids, integer enums, ns as
strings; ``/api/v3/trace-summaries`` rows) and the older UI JSON of ``/api/traces``
(µs times, ``processes``, ``references``, typed tags). See BACKENDS.md §3.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.core import traces
from console.core.model import Span, Trace, TraceSummary
from console.core.otlp import parse_resource_spans, uint64

SOURCE = "jaeger"

#: UI JSON span field → meaning.
V1_SPAN_FIELDS: Mapping[str, str] = {
    "traceID": "hex, 16 or 32 chars",
    "spanID": "hex, 16 chars",
    "operationName": "span name",
    "references": "[{refType: CHILD_OF|FOLLOWS_FROM, traceID, spanID}]; CHILD_OF is the parent",
    "startTime": "µs since epoch",
    "duration": "µs",
    "tags": "[{key, type, value}]; error=true marks failure",
    "logs": "[{timestamp µs, fields:[KV]}] → events",
    "processID": "key into the trace's processes → serviceName",
    "warnings": "[str] → trace warnings",
}

#: Tag ``span.kind`` values (OpenTracing and OTel-via-Jaeger) → normalised kind.
V1_KIND: Mapping[str, str] = {
    "server": "server",
    "client": "client",
    "producer": "producer",
    "consumer": "consumer",
    "internal": "internal",
}


def _tag_value(tag: Mapping[str, Any]) -> Any:
    value = tag.get("value")
    if tag.get("type") == "int64" and isinstance(value, str):
        try:
            return int(value)  # int64 beyond JS precision is sent as a string
        except ValueError:
            return value
    return value


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _v1_span(raw: Mapping[str, Any], processes: Mapping[str, Any], warnings: list[str]) -> Span:
    tid = traces.trace_id(raw.get("traceID"), "hex")
    tags = {
        str(t.get("key")): _tag_value(t) for t in raw.get("tags") or () if isinstance(t, Mapping)
    }
    parent = None
    for ref_type in ("CHILD_OF", "FOLLOWS_FROM"):  # CHILD_OF wins; FOLLOWS_FROM is a fallback
        for ref in raw.get("references") or ():
            if ref.get("refType") == ref_type and traces.trace_id(ref.get("traceID"), "hex") == tid:
                parent = traces.span_id(ref.get("spanID"), "hex")
                break
        if parent is not None:
            break
    otel_status = str(tags.get("otel.status_code", "")).upper()
    status = (
        "error"
        if _truthy(tags.get("error")) or otel_status == "ERROR"
        else "ok"
        if otel_status == "OK"
        else "unset"
    )
    process = processes.get(str(raw.get("processID"))) or {}
    events = []
    for log in raw.get("logs") or ():
        fields = {str(f.get("key")): _tag_value(f) for f in log.get("fields") or ()}
        events.append(
            {
                "name": str(fields.get("event") or fields.get("message") or "log"),
                "time_unix_nano": uint64(log.get("timestamp")) * 1000,
                "attributes": fields,
            }
        )
    warnings.extend(str(w) for w in raw.get("warnings") or ())
    return Span(
        trace_id=tid,
        span_id=traces.span_id(raw.get("spanID"), "hex"),
        parent_id=parent,
        service=str(process.get("serviceName") or "unknown"),
        name=str(raw.get("operationName", "")),
        start_ns=uint64(raw.get("startTime")) * 1000,
        duration_ns=uint64(raw.get("duration")) * 1000,
        kind=V1_KIND.get(str(tags.get("span.kind", "")).lower(), "internal"),
        status=status,
        status_message=str(tags.get("otel.status_description", "")),
        attributes=tags,
        events=tuple(events),
    )


def parse_v1_trace(obj: Mapping[str, Any]) -> Trace:
    """One element of ``/api/traces`` ``data``. Raises ValueError for a malformed trace."""
    if not isinstance(obj, Mapping) or not isinstance(obj.get("spans"), list):
        raise ValueError("a Jaeger trace must be an object with a spans list")
    processes = obj.get("processes") or {}
    warnings = [str(w) for w in obj.get("warnings") or ()]
    spans = tuple(_v1_span(s, processes, warnings) for s in obj["spans"])
    tid = spans[0].trace_id if spans else traces.trace_id(obj.get("traceID"), "hex")
    return traces.finalize(
        Trace(trace_id=tid, spans=spans, source=SOURCE, warnings=tuple(warnings))
    )


def parse_v1_response(doc: Any) -> list[Trace]:
    """The ``{"data": [Trace…], …}`` envelope of ``/api/traces`` and ``/api/traces/{id}``."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("data") or [], list):
        raise ValueError("expected {data: [...]} from Jaeger /api/traces")
    return [parse_v1_trace(t) for t in doc.get("data") or ()]


def parse_v3_traces(doc: Any, source: str = SOURCE) -> list[Trace]:
    """``{"result": TracesData}`` (all traces merged in one list) → one Trace per trace id."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("result", {}), Mapping):
        raise ValueError("expected {result: {resourceSpans: [...]}} from Jaeger api_v3")
    batch = parse_resource_spans((doc.get("result") or {}).get("resourceSpans"), id_encoding="hex")
    return group(batch.spans, source, tuple(batch.errors))


def group(spans: list[Span], source: str, warnings: tuple[str, ...] = ()) -> list[Trace]:
    """Spans of possibly several traces → finalised traces, in first-seen order."""
    by_trace: dict[str, list[Span]] = {}
    for s in spans:
        by_trace.setdefault(s.trace_id, []).append(s)
    return [
        traces.finalize(Trace(trace_id=tid, spans=tuple(ss), source=source, warnings=warnings))
        for tid, ss in by_trace.items()
    ]


def parse_v3_summaries(doc: Any) -> list[TraceSummary]:
    """``/api/v3/trace-summaries`` (Jaeger ≥ 2.19) → summaries."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("summaries") or [], list):
        raise ValueError("expected {summaries: [...]} from Jaeger api_v3")
    out = []
    for row in doc.get("summaries") or ():
        start = uint64(row.get("minStartTimeUnixNano"))
        end = uint64(row.get("maxEndTimeUnixNano"))
        out.append(
            TraceSummary(
                trace_id=traces.trace_id(row.get("traceId"), "hex"),
                root_service=str(row.get("rootServiceName", "")),
                root_name=str(row.get("rootOperationName", "")),
                start_ns=start,
                duration_ms=round(max(0, end - start) / 1e6, 3),
                span_count=int(row.get("spanCount") or 0),
                error_count=int(row.get("errorSpanCount") or 0),
                source=SOURCE,
            )
        )
    return out
