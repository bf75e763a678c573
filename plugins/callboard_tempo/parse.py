"""Grafana Tempo payloads → normalised traces. Pure functions, explicit field tables.

Trace JSON is gogo-jsonpb OTLP: base64 ids, enum *names*, uint64 as strings, zero values
omitted (``status: {}`` is UNSET), under ``trace.resourceSpans`` (``/api/v2/traces``) or
``batches`` (``/api/traces``). Search rows carry hex trace ids with leading zeros stripped.
See BACKENDS.md §4.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.core import traces
from console.core.model import Trace, TraceSummary
from console.core.otlp import parse_resource_spans, uint64

SOURCE = "tempo"

#: Search row (``TraceSearchMetadata``) field → meaning.
SEARCH_FIELDS: Mapping[str, str] = {
    "traceID": "hex, leading zeros stripped → left-pad to 32",
    "rootServiceName": "service of the root span ('<root span not yet received>' when missing)",
    "rootTraceName": "name of the root span",
    "startTimeUnixNano": "ns as a string",
    "durationMs": "number; omitted when 0",
    "serviceStats": "{service: {spanCount, errorCount}} (newer Tempo)",
    "spanSets": "[{spans: [{spanID, attributes}], matched}]",
}

NO_ROOT = "<root span not yet received>"


def parse_trace(doc: Any, trace_id: str | None = None) -> Trace | None:
    """A ``/api/v2/traces/{id}`` or ``/api/traces/{id}`` body → Trace (None when empty).

    Raises ValueError for a body that is not Tempo trace JSON.
    """
    if not isinstance(doc, Mapping):
        raise ValueError("expected a JSON object")
    if "trace" in doc:
        inner = doc.get("trace") or {}
        if not isinstance(inner, Mapping):
            raise ValueError("trace is not an object")
        resource_spans = inner.get("resourceSpans") or inner.get("batches")
    else:
        resource_spans = doc.get("batches") or doc.get("resourceSpans")
    batch = parse_resource_spans(resource_spans or [], id_encoding="auto")
    warnings = list(batch.errors)
    if doc.get("status") == "PARTIAL":
        warnings.append(
            "Tempo returned a partial trace: " + str(doc.get("message") or "limits reached")
        )
    if not batch.spans:
        return None
    tid = trace_id or batch.spans[0].trace_id
    spans = tuple(s for s in batch.spans if s.trace_id == tid)
    return traces.finalize(
        Trace(trace_id=tid, spans=spans, source=SOURCE, warnings=tuple(warnings))
    )


def _matched_errors(row: Mapping[str, Any]) -> int:
    n = 0
    for spanset in row.get("spanSets") or ([row["spanSet"]] if row.get("spanSet") else []):
        for span in spanset.get("spans") or ():
            for kv in span.get("attributes") or ():
                value = (kv.get("value") or {}).get("stringValue")
                if kv.get("key") == "status" and value == "error":
                    n += 1
    return n


def parse_search(doc: Any) -> list[TraceSummary]:
    """A ``/api/search`` body → summaries. Raises ValueError for a malformed body."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("traces") or [], list):
        raise ValueError("expected {traces: [...]} from Tempo /api/search")
    out = []
    for row in doc.get("traces") or ():
        stats = row.get("serviceStats") or {}
        if stats:
            span_count = sum(int(s.get("spanCount") or 0) for s in stats.values())
            error_count = sum(int(s.get("errorCount") or 0) for s in stats.values())
        else:  # older Tempo: only the matched spans are known
            span_count = 0
            error_count = _matched_errors(row)
        root = str(row.get("rootServiceName", ""))
        out.append(
            TraceSummary(
                trace_id=traces.trace_id(row.get("traceID"), "hex"),
                root_service="" if root == NO_ROOT else root,
                root_name=str(row.get("rootTraceName", "")),
                start_ns=uint64(row.get("startTimeUnixNano")),
                duration_ms=float(row.get("durationMs") or 0),
                span_count=span_count,
                error_count=error_count,
                source=SOURCE,
            )
        )
    return out


def traceql_string(value: str) -> str:
    """A TraceQL double-quoted string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def traceql(
    service: str, operation: str | None, errors_only: bool, min_duration_ms: float | None
) -> str:
    """The TraceQL spanset filter for a search, e.g. ``{ resource.service.name = "x" && status = error }``."""
    terms = [f"resource.service.name = {traceql_string(service)}"]
    if operation:
        terms.append(f"name = {traceql_string(operation)}")
    if errors_only:
        terms.append("status = error")
    if min_duration_ms is not None:
        terms.append(f"duration >= {min_duration_ms:g}ms")
    return "{ " + " && ".join(terms) + " }"
