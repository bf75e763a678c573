"""OTLP log data (``ExportLogsServiceRequest``, JSON shape) → :class:`LogRecord`, bounded.

One mapping for both encodings: OTLP/HTTP JSON (hex ids, integer enums) and the
receiver's protobuf decoder (:mod:`console.engine.otlp.logproto`, raw-bytes ids), which
produces the same dict shape. Every string from the sender is sanitised here, once
(:mod:`console.core.sanitize`): a body keeps its newlines (a stack trace), names do not.

Bounds (:class:`LogLimits`): a request over a request-wide count is refused as a whole
(:class:`LimitError`, 400); a record that breaks a per-record rule (a bad id, too many
attributes, an attribute value too long) is rejected alone and reported back as
``partialSuccess.rejectedLogRecords``. A body longer than ``max_body`` characters is kept,
cut there and marked ``…`` (a log line is still worth reading when cut); a structured body
(kvlist, array) is rendered as JSON-like text no deeper than ``max_body_depth``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from console.core import traces
from console.core.logmodel import LogRecord, severity_level
from console.core.otlp import _over, attributes, uint64
from console.core.otlp_limits import DecodeLimits, LimitError, NumberError, finite, int64
from console.core.sanitize import clean_line, clean_obj, clean_text

CUT = "…"


@dataclass(frozen=True)
class LogLimits:
    """What one logs request may hold once decoded (far above an SDK's batch of 512)."""

    max_resource_logs: int = 1_000
    """``resource_logs`` entries per request."""
    max_scope_logs: int = 10_000
    """``scope_logs`` entries per request, all resources together."""
    max_records: int = 20_000
    """Log records per request."""
    max_items: int = 200_000
    """Decoded objects per request (resources, scopes, records, key-values, array and
    kvlist elements): the bound that caps memory."""
    max_json_tokens: int = 800_000
    """``{`` ``[`` ``,`` bytes of a JSON body, counted before it is parsed."""
    max_attributes: int = 128
    """Attributes per record, scope or resource."""
    max_value_length: int = 32 * 1024
    """Characters of one attribute key or value."""
    max_body: int = 64 * 1024
    """Characters of a body kept; a longer one is cut there and marked ``…``."""
    max_body_depth: int = 8
    """Nesting of a structured body rendered; deeper parts show as ``…``."""

    @property
    def attribute_limits(self) -> DecodeLimits:
        """The span decoder's limits for attributes (count, value length, items)."""
        return DecodeLimits(
            max_attributes=self.max_attributes,
            max_value_length=self.max_value_length,
            max_items=self.max_items,
            max_resource_spans=self.max_resource_logs,
            max_scope_spans=self.max_scope_logs,
            max_spans=self.max_records,
            max_json_tokens=self.max_json_tokens,
        )


@dataclass
class LogBatch:
    """Records decoded from one request, and those rejected as invalid (with why)."""

    records: list[LogRecord] = field(default_factory=list)
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    def reject(self, why: str) -> None:
        self.rejected += 1
        if len(self.errors) < 5:  # enough to explain, bounded for a flood of bad records
            self.errors.append(why)


#: ``SeverityNumber`` enum names (what a JSON sender may write instead of the number).
_SEVERITY_NAMES = {
    f"SEVERITY_NUMBER_{level}{'' if i == 0 else i + 1}": 1 + 4 * n + i
    for n, level in enumerate(("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"))
    for i in range(4)
} | {"SEVERITY_NUMBER_UNSPECIFIED": 0}


def _severity_number(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value in _SEVERITY_NAMES:
        n = _SEVERITY_NAMES[value]
    elif isinstance(value, int) and not isinstance(value, bool):
        n = value
    else:
        raise ValueError(f"severityNumber {str(value)[:40]!r} is not a SeverityNumber")
    return n if 1 <= n <= 24 else None


class _Render:
    """A structured body as text, stopping at ``room`` characters and ``depth`` levels."""

    __slots__ = ("depth", "out", "room")

    def __init__(self, room: int, depth: int) -> None:
        self.room, self.depth = room, depth
        self.out: list[str] = []

    def put(self, text: str) -> bool:
        if self.room <= 0:
            return False
        if len(text) > self.room:
            text = text[: self.room] + CUT
        self.room -= len(text)
        self.out.append(text)
        return self.room > 0

    def value(self, v: Any, level: int) -> bool:
        if not isinstance(v, Mapping):
            return self.put(json.dumps(v, ensure_ascii=False, default=str))
        if "stringValue" in v:
            return self.put(json.dumps(str(v["stringValue"]), ensure_ascii=False))
        if "boolValue" in v:
            return self.put("true" if v["boolValue"] else "false")
        if "intValue" in v:
            return self.put(str(int64(v["intValue"])))
        if "doubleValue" in v:
            return self.put(repr(finite(v["doubleValue"])))
        if "bytesValue" in v:
            b = v["bytesValue"]
            text = base64.b64encode(b).decode() if isinstance(b, bytes | bytearray) else str(b)
            return self.put(json.dumps(text))
        if "arrayValue" in v or "kvlistValue" in v:
            is_list = "arrayValue" in v
            inner = (v["arrayValue"] if is_list else v["kvlistValue"]) or {}
            items = inner.get("values") or () if isinstance(inner, Mapping) else ()
            if not isinstance(items, list | tuple):
                raise ValueError("a body array or kvlist is not a list")
            if level >= self.depth:
                return self.put("[…]" if is_list else "{…}")
            if not self.put("[" if is_list else "{"):
                return False
            for i, item in enumerate(items):
                if i and not self.put(", "):
                    return False
                if is_list:
                    ok = self.value(item, level + 1)
                else:
                    key = item.get("key", "") if isinstance(item, Mapping) else ""
                    ok = self.put(json.dumps(str(key), ensure_ascii=False) + ": ") and self.value(
                        item.get("value") if isinstance(item, Mapping) else None, level + 1
                    )
                if not ok:
                    return False
            return self.put("]" if is_list else "}")
        return self.put("null")


def render_body(value: Any, limits: LogLimits) -> str:
    """A ``LogRecord.body`` AnyValue as text: a string as it is, a structured value as
    JSON-like text; at most ``max_body`` characters (then ``…``), sanitised."""
    if value is None or (isinstance(value, Mapping) and not value):
        return ""
    if isinstance(value, Mapping) and "stringValue" in value:
        text = str(value["stringValue"])
        if len(text) > limits.max_body:
            text = text[: limits.max_body] + CUT
        return clean_text(text)
    r = _Render(limits.max_body, limits.max_body_depth)
    r.value(value, 0)
    return clean_text("".join(r.out))


#: repr() escapes every non-printable character (``\\x1b``, ``\\n``): a C-speed look at
#: attributes before walking them (a false alarm only costs the walk).
_REPR_ESCAPE = re.compile(r"\\[xuUtnr]")


def _clean_attributes(attrs: dict[str, Any]) -> dict[str, Any]:
    if not attrs or _REPR_ESCAPE.search(repr(attrs)) is None:
        return attrs
    cleaned: dict[str, Any] = clean_obj(attrs, multiline=True)
    return cleaned


def _id(value: Any, width: int, enc: traces.Encoding) -> str | None:
    if value is None or value in ("", b""):
        return None
    if isinstance(value, bytes | bytearray) and not any(value):
        return None  # all zeros: the spec's "no trace", as an empty id is
    if isinstance(value, str) and not value.strip().strip("0"):
        return None
    return traces.trace_id(value, enc) if width == 32 else traces.span_id(value, enc)


def _record(
    raw: Mapping[str, Any],
    service: str,
    scope: str,
    enc: traces.Encoding,
    limits: LogLimits,
    attr_limits: DecodeLimits,
    now_ns: int,
) -> LogRecord:
    time_ns = uint64(raw.get("timeUnixNano"))
    observed = uint64(raw.get("observedTimeUnixNano")) or None
    number = _severity_number(raw.get("severityNumber"))
    text = raw.get("severityText") or ""
    if not isinstance(text, str) or len(text) > limits.max_value_length:
        raise ValueError("severityText is not a short string")
    event = raw.get("eventName") or ""
    if not isinstance(event, str) or len(event) > limits.max_value_length:
        raise ValueError("eventName is not a short string")
    flags = raw.get("flags") or 0
    if not isinstance(flags, int) or isinstance(flags, bool) or not 0 <= flags < 2**32:
        raise ValueError(f"flags {str(flags)[:40]!r} is not a fixed32")
    attrs = attributes(raw.get("attributes"), attr_limits)
    return LogRecord(
        time_ns=time_ns or observed or now_ns,
        observed_ns=observed,
        body=render_body(raw.get("body"), limits),
        service=service,
        scope=scope,
        severity=severity_level(number, text),
        severity_number=number,
        severity_text=clean_line(text),
        trace_id=_id(raw.get("traceId"), 32, enc),
        span_id=_id(raw.get("spanId"), 16, enc),
        attributes=_clean_attributes(attrs),
        flags=flags,
        event_name=clean_line(event),
        source="otlp",
    )


def parse_resource_logs(
    resource_logs: Any,
    *,
    id_encoding: traces.Encoding = "hex",
    limits: LogLimits | None = None,
    now_ns: int = 0,
) -> LogBatch:
    """Map a ``resourceLogs`` list to records.

    A record that breaks a rule is rejected on its own and counted; a wrong *shape* (not
    lists/objects where OTLP has them) raises ValueError; over a request-wide bound,
    LimitError; a bad number anywhere, NumberError (both: the request is refused).
    ``now_ns`` stands in for a record with neither a time nor an observed time.
    """
    limits = limits or LogLimits()
    attr_limits = limits.attribute_limits
    if resource_logs is None:
        return LogBatch()
    if not isinstance(resource_logs, list):
        raise ValueError("resourceLogs is not a list")
    check_log_counts(resource_logs, limits)
    batch = LogBatch()
    for rl in resource_logs:
        if not isinstance(rl, Mapping):
            raise ValueError("a resourceLogs entry is not an object")
        try:
            resource = attributes((rl.get("resource") or {}).get("attributes"), attr_limits)
        except NumberError:
            raise
        except ValueError as exc:
            raise LimitError(f"resource: {exc}") from None
        service = clean_line(str(resource.get("service.name") or "unknown_service"))
        scopes = rl.get("scopeLogs") or []
        if not isinstance(scopes, list):
            raise ValueError("scopeLogs is not a list")
        for sl in scopes:
            if not isinstance(sl, Mapping):
                raise ValueError("a scopeLogs entry is not an object")
            scope_name = (sl.get("scope") or {}).get("name") or ""
            scope = clean_line(str(scope_name)[: limits.max_value_length])
            records = sl.get("logRecords")
            if not isinstance(records, list | None):
                raise ValueError("logRecords is not a list")
            for raw in records or ():
                if not isinstance(raw, Mapping):
                    batch.reject("a log record is not an object")
                    continue
                try:
                    batch.records.append(
                        _record(raw, service, scope, id_encoding, limits, attr_limits, now_ns)
                    )
                except NumberError:
                    raise
                except (ValueError, TypeError, AttributeError, RecursionError) as exc:
                    batch.reject(f"log record: {exc}")
    return batch


def check_log_counts(resource_logs: list[Any], limits: LogLimits) -> None:
    """Raise LimitError when there are more resource, scope or record entries than allowed
    (lengths only: cheap, before any record is mapped)."""
    _over("resource_logs entries", len(resource_logs), limits.max_resource_logs)
    scopes = records = 0
    for rl in resource_logs:
        sl_list = rl.get("scopeLogs") if isinstance(rl, Mapping) else None
        if not isinstance(sl_list, list):
            continue
        scopes += len(sl_list)
        for sl in sl_list:
            lr = sl.get("logRecords") if isinstance(sl, Mapping) else None
            records += len(lr) if isinstance(lr, list) else 0
    _over("scope_logs entries", scopes, limits.max_scope_logs)
    _over("log records", records, limits.max_records)
