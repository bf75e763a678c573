"""A small, strict protobuf wire decoder for ``ExportTraceServiceRequest``.

Why our own and not ``opentelemetry-proto``: the trace messages need about a dozen field
numbers, and a runtime dependency on ``opentelemetry-proto`` pins ``protobuf`` versions
that often clash with what else a user has installed. This decoder produces the same
dict shape as OTLP JSON (``resourceSpans`` → ``scopeSpans`` → ``spans``; ids as raw bytes,
enums as ints), so one mapping (``console.core.otlp``) serves both encodings.

It is strict where it matters for a receiver: a truncated varint or length, a length past
the end, a group wire type, invalid UTF-8 or nesting deeper than ``MAX_DEPTH`` raise
``ProtoError`` (the receiver answers 400). Unknown fields are skipped, as protobuf
requires. It is bounded: the top-level ``resource_spans`` entries are counted before
anything is built, and every object is counted *before* it is allocated against the
request's :class:`~console.core.otlp_limits.DecodeLimits` (``LimitError`` at the first one
over), so memory stays proportional to the limits, never to what two-byte messages
could amplify to. Tests check it against messages serialised by the real SDK (tests/engine/test_otlp_receiver.py).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

from console.core.otlp_limits import DecodeLimits, LimitError

#: A body as the receiver reads it (a bytearray, decoded without a copy) or any bytes.
Buf = bytes | bytearray
MAX_DEPTH = 32
_U64 = struct.Struct("<Q")
_F64 = struct.Struct("<d")
_U32 = struct.Struct("<I")


class ProtoError(ValueError):
    """The bytes are not a well-formed protobuf message of the expected type."""


class _Budget:
    """Counts decoded objects against the limits; raises LimitError at the first one over."""

    __slots__ = ("items", "limits", "scopes", "spans")

    def __init__(self, limits: DecodeLimits) -> None:
        self.limits = limits
        self.items = self.scopes = self.spans = 0

    def item(self) -> None:
        self.items += 1
        if self.items > self.limits.max_items:
            raise LimitError(
                f"more than {self.limits.max_items} decoded objects in one request; "
                "send smaller batches"
            )

    def scope(self) -> None:
        self.scopes += 1
        if self.scopes > self.limits.max_scope_spans:
            raise LimitError(
                f"more than {self.limits.max_scope_spans} scope_spans entries in one request; "
                "send smaller batches"
            )
        self.item()

    def span(self) -> None:
        self.spans += 1
        if self.spans > self.limits.max_spans:
            raise LimitError(
                f"more than {self.limits.max_spans} spans in one request; send smaller batches"
            )
        self.item()


def _varint(buf: Buf, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise ProtoError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtoError("varint longer than 10 bytes")


def _fields(buf: Buf, pos: int, end: int) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value); a length-delimited value is a (start, end) pair."""
    while pos < end:
        key, pos = _varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        value: Any
        if number == 0:
            raise ProtoError("field number 0")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
        elif wire == 1:
            if pos + 8 > end:
                raise ProtoError("truncated fixed64")
            value = _U64.unpack_from(buf, pos)[0]
            pos += 8
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            if pos + length > end:
                raise ProtoError("length-delimited field runs past the end")
            value = (pos, pos + length)
            pos += length
        elif wire == 5:
            if pos + 4 > end:
                raise ProtoError("truncated fixed32")
            value = _U32.unpack_from(buf, pos)[0]
            pos += 4
        else:
            raise ProtoError(f"unsupported wire type {wire}")
        yield number, wire, value


def _expect(wire: int, want: int, what: str) -> None:
    if wire != want:
        raise ProtoError(f"{what}: wire type {wire}, expected {want}")


def _str(buf: Buf, span: tuple[int, int]) -> str:
    try:
        return buf[span[0] : span[1]].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtoError("invalid UTF-8 in a string field") from None


def _any(buf: Buf, s: int, e: int, depth: int, budget: _Budget) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise ProtoError("values nested too deeply")
    out: dict[str, Any] = {}
    for n, w, v in _fields(buf, s, e):
        if n == 1:
            _expect(w, 2, "AnyValue.string_value")
            out = {"stringValue": _str(buf, v)}
        elif n == 2:
            _expect(w, 0, "AnyValue.bool_value")
            out = {"boolValue": bool(v)}
        elif n == 3:
            _expect(w, 0, "AnyValue.int_value")
            out = {"intValue": v - (1 << 64) if v >= 1 << 63 else v}
        elif n == 4:
            _expect(w, 1, "AnyValue.double_value")
            out = {"doubleValue": _F64.unpack(_U64.pack(v))[0]}
        elif n == 5:
            _expect(w, 2, "AnyValue.array_value")
            vals = [
                _any(buf, a, b, depth + 1, budget)
                for m, ww, (a, b) in _sub(buf, v, "ArrayValue", budget)
                if m == 1
            ]
            out = {"arrayValue": {"values": vals}}
        elif n == 6:
            _expect(w, 2, "AnyValue.kvlist_value")
            kvs = [
                _kv(buf, a, b, budget, depth + 1)
                for m, ww, (a, b) in _sub(buf, v, "KeyValueList", budget)
                if m == 1
            ]
            out = {"kvlistValue": {"values": kvs}}
        elif n == 7:
            _expect(w, 2, "AnyValue.bytes_value")
            out = {"bytesValue": bytes(buf[v[0] : v[1]])}
    return out


def _sub(
    buf: Buf, span: tuple[int, int], what: str, budget: _Budget
) -> Iterator[tuple[int, int, Any]]:
    """The length-delimited children of a message (every child must be a message)."""
    for n, w, v in _fields(buf, span[0], span[1]):
        if n == 1:
            _expect(w, 2, what)
            budget.item()
            yield n, w, v


def _kv(buf: Buf, s: int, e: int, budget: _Budget, depth: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {"key": "", "value": {}}
    for n, w, v in _fields(buf, s, e):
        if n == 1:
            _expect(w, 2, "KeyValue.key")
            out["key"] = _str(buf, v)
        elif n == 2:
            _expect(w, 2, "KeyValue.value")
            out["value"] = _any(buf, v[0], v[1], depth + 1, budget)
    return out


def _attrs_into(out: dict[str, Any], buf: Buf, w: int, v: Any, what: str, budget: _Budget) -> None:
    _expect(w, 2, what)
    budget.item()
    out.setdefault("attributes", []).append(_kv(buf, v[0], v[1], budget))


def scalar_into(
    out: dict[str, Any], buf: Buf, w: int, v: Any, scalar: tuple[str, int, str], message: str
) -> None:
    """One scalar field (``scalar``: its JSON key, wire type and kind — ``bytes``, ``str``
    or ``int``) of ``message`` into ``out``; a wrong wire type is refused, naming it."""
    key, want, kind = scalar
    _expect(w, want, f"{message}.{key}")
    out[key] = bytes(buf[v[0] : v[1]]) if kind == "bytes" else _str(buf, v) if kind == "str" else v


# field number → (JSON key, wire type, kind) for the scalar fields of Span / Event / Status
_SPAN_SCALARS: dict[int, tuple[str, int, str]] = {
    1: ("traceId", 2, "bytes"),
    2: ("spanId", 2, "bytes"),
    4: ("parentSpanId", 2, "bytes"),
    5: ("name", 2, "str"),
    6: ("kind", 0, "int"),
    7: ("startTimeUnixNano", 1, "int"),
    8: ("endTimeUnixNano", 1, "int"),
}


def _span(buf: Buf, s: int, e: int, budget: _Budget) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, w, v in _fields(buf, s, e):
        scalar = _SPAN_SCALARS.get(n)
        if scalar is not None:
            scalar_into(out, buf, w, v, scalar, "Span")
        elif n == 9:
            _attrs_into(out, buf, w, v, "Span.attributes", budget)
        elif n == 11:
            _expect(w, 2, "Span.events")
            budget.item()
            ev: dict[str, Any] = {}
            for m, ww, vv in _fields(buf, v[0], v[1]):
                if m == 1:
                    _expect(ww, 1, "Event.time_unix_nano")
                    ev["timeUnixNano"] = vv
                elif m == 2:
                    _expect(ww, 2, "Event.name")
                    ev["name"] = _str(buf, vv)
                elif m == 3:
                    _attrs_into(ev, buf, ww, vv, "Event.attributes", budget)
            out.setdefault("events", []).append(ev)
        elif n == 15:
            _expect(w, 2, "Span.status")
            st: dict[str, Any] = {}
            for m, ww, vv in _fields(buf, v[0], v[1]):
                if m == 2:
                    _expect(ww, 2, "Status.message")
                    st["message"] = _str(buf, vv)
                elif m == 3:
                    _expect(ww, 0, "Status.code")
                    st["code"] = vv
            out["status"] = st
    return out


def count_resource_spans(buf: Buf, limit: int, what: str = "resource_spans") -> int:
    """The top-level ``what`` entries (field 1 of an export request: ``resource_spans``,
    ``resource_metrics`` or ``resource_logs``), counted without decoding any (one varint
    key and one length each); raises LimitError as soon as there are more than ``limit``."""
    n = 0
    for number, _, _ in _fields(buf, 0, len(buf)):
        if number == 1:
            n += 1
            if n > limit:
                raise LimitError(
                    f"more than {limit} {what} entries in one request; send smaller batches"
                )
    return n


def resource(buf: Buf, span: tuple[int, int], budget: _Budget) -> dict[str, Any]:
    """A ``Resource`` message (attributes = 1), the same in every signal's request."""
    res: dict[str, Any] = {}
    for k, w, v in _fields(buf, span[0], span[1]):
        if k == 1:
            _attrs_into(res, buf, w, v, "Resource.attributes", budget)
    return res


def decode_export_request(data: Buf, limits: DecodeLimits | None = None) -> dict[str, Any]:
    """``ExportTraceServiceRequest`` bytes → the OTLP JSON dict shape.

    Raises ProtoError for malformed bytes and LimitError for a request over ``limits``
    (the defaults when None).
    """
    buf = data if isinstance(data, bytes | bytearray) else bytes(data)  # no copy of a body
    limits = limits or DecodeLimits()
    count_resource_spans(buf, limits.max_resource_spans)
    budget = _Budget(limits)
    resource_spans: list[dict[str, Any]] = []
    for n, w, v in _fields(buf, 0, len(buf)):
        if n != 1:
            continue
        _expect(w, 2, "ExportTraceServiceRequest.resource_spans")
        budget.item()
        rs: dict[str, Any] = {"resource": {}, "scopeSpans": []}
        for m, ww, vv in _fields(buf, v[0], v[1]):
            if m == 1:
                _expect(ww, 2, "ResourceSpans.resource")
                rs["resource"] = resource(buf, vv, budget)
            elif m == 2:
                _expect(ww, 2, "ResourceSpans.scope_spans")
                budget.scope()
                spans = []
                for k, w3, v3 in _fields(buf, vv[0], vv[1]):
                    if k == 2:
                        _expect(w3, 2, "ScopeSpans.spans")
                        budget.span()
                        spans.append(_span(buf, v3[0], v3[1], budget))
                    elif k == 1:
                        _expect(w3, 2, "ScopeSpans.scope")
                rs["scopeSpans"].append({"spans": spans})
        resource_spans.append(rs)
    return {"resourceSpans": resource_spans}


def encode_export_response(rejected: int = 0, message: str = "") -> bytes:
    """``ExportTraceServiceResponse`` bytes: empty on full success, else ``partial_success``."""
    if not rejected and not message:
        return b""
    inner = b""
    if rejected:
        inner += b"\x08" + _enc_varint(rejected)
    if message:
        m = message.encode()
        inner += b"\x12" + _enc_varint(len(m)) + m
    return b"\x0a" + _enc_varint(len(inner)) + inner


def encode_status(code: int, message: str) -> bytes:
    """A ``google.rpc.Status`` (code = 1, message = 2) for error responses."""
    m = message.encode()
    return b"\x08" + _enc_varint(code) + b"\x12" + _enc_varint(len(m)) + m


def _enc_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)
