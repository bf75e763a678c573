"""``ExportLogsServiceRequest`` protobuf bytes → the OTLP JSON dict shape, bounded.

The same hand-written wire decoder as the trace one (:mod:`console.engine.otlp.proto`,
whose reader, ``AnyValue`` and ``KeyValue`` decoding this reuses), for the log messages.
Field numbers are those of opentelemetry-proto ``logs/v1/logs.proto`` and
``collector/logs/v1/logs_service.proto``::

    ExportLogsServiceRequest  resource_logs = 1
    ResourceLogs              resource = 1, scope_logs = 2, schema_url = 3
    ScopeLogs                 scope = 1, log_records = 2, schema_url = 3
    InstrumentationScope      name = 1, version = 2, attributes = 3
    LogRecord                 time_unix_nano = 1 (fixed64), severity_number = 2 (enum),
                              severity_text = 3, body = 5 (AnyValue), attributes = 6,
                              dropped_attributes_count = 7, flags = 8 (fixed32),
                              trace_id = 9 (bytes), span_id = 10 (bytes),
                              observed_time_unix_nano = 11 (fixed64), event_name = 12
    ExportLogsServiceResponse partial_success = 1 {rejected_log_records = 1, error_message = 2}

Every object is counted against :class:`~console.core.otlp_logs.LogLimits` before it is
built (``LimitError`` at the first one over); malformed bytes raise ``ProtoError``.
"""

from __future__ import annotations

from typing import Any

from console.core.otlp_limits import DecodeLimits, LimitError
from console.core.otlp_logs import LogLimits
from console.engine.otlp.proto import (
    Buf,
    _any,
    _attrs_into,
    _Budget,
    _expect,
    _fields,
    _str,
    count_resource_spans,
    encode_export_response,
    resource,
    scalar_into,
)

__all__ = ["decode_logs_request", "encode_logs_response"]


class _LogBudget(_Budget):
    """The trace decoder's item budget, plus scope and record counts of a logs request."""

    __slots__ = ("log_limits", "records")

    def __init__(self, limits: LogLimits) -> None:
        super().__init__(DecodeLimits(max_items=limits.max_items))
        self.log_limits = limits
        self.records = 0

    def scope(self) -> None:
        self.scopes += 1
        if self.scopes > self.log_limits.max_scope_logs:
            raise LimitError(
                f"more than {self.log_limits.max_scope_logs} scope_logs entries in one "
                "request; send smaller batches"
            )
        self.item()

    def record(self) -> None:
        self.records += 1
        if self.records > self.log_limits.max_records:
            raise LimitError(
                f"more than {self.log_limits.max_records} log records in one request; "
                "send smaller batches"
            )
        self.item()


# field number → (JSON key, wire type, kind) for LogRecord's scalar fields
_RECORD_SCALARS: dict[int, tuple[str, int, str]] = {
    1: ("timeUnixNano", 1, "int"),
    2: ("severityNumber", 0, "int"),
    3: ("severityText", 2, "str"),
    8: ("flags", 5, "int"),
    9: ("traceId", 2, "bytes"),
    10: ("spanId", 2, "bytes"),
    11: ("observedTimeUnixNano", 1, "int"),
    12: ("eventName", 2, "str"),
}


def _record(buf: Buf, s: int, e: int, budget: _LogBudget) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, w, v in _fields(buf, s, e):
        scalar = _RECORD_SCALARS.get(n)
        if scalar is not None:
            scalar_into(out, buf, w, v, scalar, "LogRecord")
        elif n == 5:
            _expect(w, 2, "LogRecord.body")
            out["body"] = _any(buf, v[0], v[1], 0, budget)
        elif n == 6:
            _attrs_into(out, buf, w, v, "LogRecord.attributes", budget)
    return out


def _scope(buf: Buf, span: tuple[int, int], budget: _LogBudget) -> dict[str, Any]:
    scope: dict[str, Any] = {}
    for n, w, v in _fields(buf, span[0], span[1]):
        if n == 1:
            _expect(w, 2, "InstrumentationScope.name")
            scope["name"] = _str(buf, v)
        elif n == 2:
            _expect(w, 2, "InstrumentationScope.version")
            scope["version"] = _str(buf, v)
        elif n == 3:
            _attrs_into(scope, buf, w, v, "InstrumentationScope.attributes", budget)
    return scope


def decode_logs_request(data: Buf, limits: LogLimits | None = None) -> dict[str, Any]:
    """``ExportLogsServiceRequest`` bytes → ``{"resourceLogs": [...]}`` (ids as raw bytes).

    Raises ProtoError for malformed bytes and LimitError for a request over ``limits``.
    """
    buf = data if isinstance(data, bytes | bytearray) else bytes(data)
    limits = limits or LogLimits()
    count_resource_spans(buf, limits.max_resource_logs, "resource_logs")
    budget = _LogBudget(limits)
    resource_logs: list[dict[str, Any]] = []
    for n, w, v in _fields(buf, 0, len(buf)):
        if n != 1:
            continue
        _expect(w, 2, "ExportLogsServiceRequest.resource_logs")
        budget.item()
        rl: dict[str, Any] = {"resource": {}, "scopeLogs": []}
        for m, ww, vv in _fields(buf, v[0], v[1]):
            if m == 1:
                _expect(ww, 2, "ResourceLogs.resource")
                rl["resource"] = resource(buf, vv, budget)
            elif m == 2:
                _expect(ww, 2, "ResourceLogs.scope_logs")
                budget.scope()
                sl: dict[str, Any] = {"logRecords": []}
                for k, w3, v3 in _fields(buf, vv[0], vv[1]):
                    if k == 1:
                        _expect(w3, 2, "ScopeLogs.scope")
                        sl["scope"] = _scope(buf, v3, budget)
                    elif k == 2:
                        _expect(w3, 2, "ScopeLogs.log_records")
                        budget.record()
                        sl["logRecords"].append(_record(buf, v3[0], v3[1], budget))
                rl["scopeLogs"].append(sl)
        resource_logs.append(rl)
    return {"resourceLogs": resource_logs}


def encode_logs_response(rejected: int = 0, message: str = "") -> bytes:
    """``ExportLogsServiceResponse`` bytes: empty on full success, else ``partial_success``
    (the same two fields, numbered alike, as the trace response's)."""
    return encode_export_response(rejected, message)
