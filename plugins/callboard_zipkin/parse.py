"""Zipkin v2 payloads → normalised traces. Pure functions, explicit field tables.

Times are µs. CLIENT and SERVER halves of one RPC may share one span ``id`` (the server
half says ``shared: true``): the server half gets a derived id whose parent is the client
half, and the spans that named the shared id as their parent move under the server half,
where the work happened. See BACKENDS.md §5.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from console.core import traces
from console.core.model import Span, Trace

SOURCE = "zipkin"

#: Zipkin span field → meaning.
SPAN_FIELDS: Mapping[str, str] = {
    "traceId": "16 or 32 lower-hex",
    "id": "16 hex; shared by CLIENT and SERVER halves of one RPC",
    "parentId": "absent on a root",
    "name": "span name",
    "kind": "CLIENT|SERVER|PRODUCER|CONSUMER; absent = local (internal)",
    "timestamp": "µs since epoch",
    "duration": "µs",
    "localEndpoint.serviceName": "service",
    "remoteEndpoint.serviceName": "→ attribute peer.service",
    "tags": "string → string; an `error` tag marks failure (its value is the message)",
    "annotations": "[{timestamp µs, value}] → events",
    "shared": "true on the server half of a shared-id span",
}

KIND: Mapping[str, str] = {
    "CLIENT": "client",
    "SERVER": "server",
    "PRODUCER": "producer",
    "CONSUMER": "consumer",
}


def _span(raw: Mapping[str, Any]) -> Span:
    tags = {str(k): v for k, v in (raw.get("tags") or {}).items()}
    remote = (raw.get("remoteEndpoint") or {}).get("serviceName")
    if remote and "peer.service" not in tags:
        tags["peer.service"] = remote
    error = "error" in tags
    message = str(tags.get("error", "")) if error else ""
    return Span(
        trace_id=traces.trace_id(raw.get("traceId"), "hex"),
        span_id=traces.span_id(raw.get("id"), "hex"),
        parent_id=traces.parent_id(raw.get("parentId"), "hex"),
        service=str((raw.get("localEndpoint") or {}).get("serviceName") or "unknown"),
        name=str(raw.get("name", "")),
        start_ns=int(raw.get("timestamp") or 0) * 1000,
        duration_ns=int(raw.get("duration") or 0) * 1000,
        kind=KIND.get(str(raw.get("kind", "")), "internal"),
        status="error" if error else "unset",
        status_message="" if message in ("", "true") else message,
        attributes=tags,
        events=tuple(
            {
                "name": str(a.get("value", "")),
                "time_unix_nano": int(a.get("timestamp") or 0) * 1000,
                "attributes": {},
            }
            for a in raw.get("annotations") or ()
        ),
    )


def _split_shared(raws: list[Mapping[str, Any]], spans: list[Span]) -> list[Span]:
    """Give the server half of each shared id its own id; reparent that id's children."""
    halves: dict[str, list[int]] = {}
    for i, s in enumerate(spans):
        halves.setdefault(s.span_id, []).append(i)
    moved: dict[str, str] = {}
    out = list(spans)
    for sid, idx in halves.items():
        if len(idx) < 2:
            continue
        server = [i for i in idx if raws[i].get("shared") and raws[i].get("kind") == "SERVER"]
        if len(server) != 1:
            continue  # not the CLIENT/SERVER pattern: finalize() reports the duplicate
        i = server[0]
        new = traces.derived_span_id(spans[i].trace_id, sid, "server")
        attrs = {**spans[i].attributes, "zipkin.shared_span_id": sid}
        out[i] = replace(spans[i], span_id=new, parent_id=sid, attributes=attrs)
        moved[sid] = new
    if moved:
        out = [
            replace(s, parent_id=moved[s.parent_id])
            if s.parent_id in moved and s.span_id != moved[s.parent_id]
            else s
            for s in out
        ]
    return out


def parse_trace(raws: Any) -> Trace | None:
    """``/api/v2/trace/{id}`` (a list of spans) → Trace; None for an empty list.

    Raises ValueError for a malformed span or a body that is not a list.
    """
    if not isinstance(raws, list) or not all(isinstance(r, Mapping) for r in raws):
        raise ValueError("expected a list of Zipkin spans")
    if not raws:
        return None
    spans = _split_shared(raws, [_span(r) for r in raws])
    return traces.finalize(Trace(trace_id=spans[0].trace_id, spans=tuple(spans), source=SOURCE))


def parse_traces(doc: Any) -> list[Trace]:
    """``/api/v2/traces`` (a list of traces, each a list of spans) → traces."""
    if not isinstance(doc, list):
        raise ValueError("expected a list of traces")
    return [t for t in (parse_trace(raws) for raws in doc) if t is not None]
