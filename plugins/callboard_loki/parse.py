"""Grafana Loki payloads → log records, and LogQL built from a query. Pure functions.

``GET /loki/api/v1/query_range`` answers (docs/sources/reference/loki-http-api.md, "Query
logs within a range of time")::

    {"status": "success",
     "data": {"resultType": "streams",
              "result": [{"stream": {<label>: <value>, ...},
                          "values": [["<ns since epoch, a string>", "<log line>"], ...]}],
              "stats": {...}}}

With the request header ``X-Loki-Response-Encoding-Flags: categorize-labels`` (Loki 3,
``pkg/util/marshal/query.go``) the answer carries ``"encodingFlags": ["categorize-labels"]``
and each value is a triple whose third element holds the entry's own labels apart from
the stream's: ``{"structuredMetadata": {...}, "parsed": {...}}`` (either may be absent).
Without the flag, structured metadata is folded into the stream labels — both are read.
Loki's native OTLP ingestion puts ``service.name`` in the ``service_name`` label and
``trace_id``, ``span_id`` and ``severity_text`` in structured metadata.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from console.core import traces
from console.core.logmodel import LogQuery, LogRecord, severity_level
from console.core.sanitize import clean_line, clean_text

#: ``values`` entry field → meaning.
VALUE_FIELDS: Mapping[int, str] = {
    0: "timestamp: nanoseconds since the epoch, as a decimal string",
    1: "the log line (the OTLP body)",
    2: "(categorize-labels only) {structuredMetadata: {k: v}, parsed: {k: v}}",
}
#: Most records read from one answer (Loki caps a query at its own max_entries_limit).
MAX_RECORDS = 10_000
#: Characters of a line kept (longer ones are cut and marked …).
MAX_LINE = 64 * 1024
#: Labels and metadata kept per record, and characters of each value.
MAX_ATTRIBUTES = 128
MAX_VALUE = 4096
#: Severity texts a LogQL ``errors`` filter matches (case-insensitive), OTLP short names too.
ERROR_PATTERN = "(?i)(e|err|error|fatal|crit|critical|alert|emerg|emergency|panic|severe)[0-9]?"
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


@dataclass(frozen=True)
class LabelMap:
    """How a team's Loki labels map to log records (the plugin's options)."""

    service_label: str = "service_name"
    trace_id_field: str = "trace_id"
    span_id_field: str = "span_id"
    level_field: str = "severity_text"
    trace_match: str = "metadata"  # or "line": a |= "<trace id>" line filter
    labels: Mapping[str, str] = field(default_factory=dict)


def label_name(name: str, what: str) -> str:
    """``name`` if it is a valid Loki label name. Raises ValueError."""
    if not _LABEL.fullmatch(name):
        raise ValueError(f"{what}: {name!r} is not a Loki label name ([a-zA-Z_][a-zA-Z0-9_]*)")
    return name


def quote(value: str) -> str:
    """A LogQL double-quoted string (Go escapes: backslash, quote, newline, tab)."""
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"'


def logql(query: LogQuery, m: LabelMap) -> str | None:
    """The LogQL for ``query``; None when it names neither a service nor a trace/span id
    (a selector would match every stream)."""
    matchers = [f"{k}={quote(v)}" for k, v in sorted(m.labels.items())]
    if query.service:
        matchers.insert(0, f"{m.service_label}={quote(query.service)}")
    elif not (query.trace_id or query.span_id):
        return None
    elif not matchers:
        matchers.append(f'{m.service_label}=~".+"')  # LogQL needs one non-empty matcher
    text = "{" + ", ".join(matchers) + "}"
    ids = [(m.trace_id_field, query.trace_id, 32), (m.span_id_field, query.span_id, 16)]
    for name, value, width in ids:
        if not value:
            continue
        norm = traces.trace_id(value) if width == 32 else traces.span_id(value)
        if m.trace_match == "line":
            text += f" |= {quote(norm)}"
        else:
            text += f" | {name}={quote(norm)}"
    if query.errors_only:
        text += f" | {m.level_field}=~{quote(ERROR_PATTERN)}"
    return text


def _labels(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} is not an object")
    return {str(k): str(v) for k, v in value.items()}


def _id(value: str | None, width: int) -> str | None:
    if not value:
        return None
    try:
        return traces.trace_id(value, "hex") if width == 32 else traces.span_id(value, "hex")
    except ValueError:
        return None  # not an id we can link: it stays an attribute


def _record(ts: Any, line: Any, labels: dict[str, str], m: LabelMap, source: str) -> LogRecord:
    if not isinstance(ts, str) or not ts.isdigit() or len(ts) > 19:
        raise ValueError(f"timestamp {str(ts)[:40]!r} is not nanoseconds as a string")
    if not isinstance(line, str):
        raise ValueError("a log line is not a string")
    if len(line) > MAX_LINE:
        line = line[:MAX_LINE] + "…"
    text = labels.get(m.level_field) or labels.get("detected_level") or labels.get("level", "")
    attrs: dict[str, Any] = {}
    for k, v in labels.items():
        if k == m.service_label or len(attrs) >= MAX_ATTRIBUTES:
            continue
        attrs[clean_line(k[:MAX_VALUE])] = clean_text(v[:MAX_VALUE])
    return LogRecord(
        time_ns=int(ts),
        body=clean_text(line),
        service=clean_line(labels.get(m.service_label, "")[:MAX_VALUE]),
        severity=severity_level(None, text),
        severity_text=clean_line(text[:MAX_VALUE]),
        trace_id=_id(labels.get(m.trace_id_field), 32),
        span_id=_id(labels.get(m.span_id_field), 16),
        attributes=attrs,
        source=source,
    )


def parse_query_range(doc: Any, m: LabelMap, source: str = "loki") -> list[LogRecord]:
    """A ``query_range`` answer → records, newest first.

    Raises ValueError for an answer that is not a Loki streams answer (a metric query's
    matrix, an error status, the wrong shape).
    """
    if not isinstance(doc, Mapping):
        raise ValueError("expected a JSON object")
    if doc.get("status") != "success":
        said = doc.get("error") or doc.get("status")
        raise ValueError(f"status {str(said)[:200]!r}")
    data = doc.get("data")
    if not isinstance(data, Mapping):
        raise ValueError("no data object")
    if data.get("resultType") != "streams":
        raise ValueError(f"resultType {str(data.get('resultType'))[:40]!r}, expected streams")
    result = data.get("result")
    if not isinstance(result, list):
        raise ValueError("data.result is not a list")
    out: list[LogRecord] = []
    for stream in result:
        if not isinstance(stream, Mapping):
            raise ValueError("a stream is not an object")
        labels = _labels(stream.get("stream"), "stream")
        values = stream.get("values")
        if not isinstance(values, list):
            raise ValueError("stream values is not a list")
        for entry in values:
            if len(out) >= MAX_RECORDS:
                break
            if not isinstance(entry, list) or len(entry) not in (2, 3):
                raise ValueError("a value is not [timestamp, line] or [timestamp, line, {…}]")
            own = dict(labels)
            if len(entry) == 3:
                extra = entry[2]
                if not isinstance(extra, Mapping):
                    raise ValueError("a value's third element is not an object")
                own.update(_labels(extra.get("structuredMetadata"), "structuredMetadata"))
                own.update(_labels(extra.get("parsed"), "parsed"))
            out.append(_record(entry[0], entry[1], own, m, source))
    out.sort(key=lambda r: r.time_ns, reverse=True)
    return out
