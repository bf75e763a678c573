"""The protobuf wire decoder for ``ExportMetricsServiceRequest``, in the style of
:mod:`console.engine.otlp.proto` (and built on its primitives).

Field numbers are those of opentelemetry-proto ``metrics/v1/metrics.proto`` and
``collector/metrics/v1/metrics_service.proto`` (read from the repository, not guessed):
``ResourceMetrics{resource=1, scope_metrics=2}``, ``ScopeMetrics{scope=1, metrics=2}``,
``Metric{name=1, description=2, unit=3, gauge=5, sum=7, histogram=9,
exponential_histogram=10, summary=11, metadata=12}``, ``Sum{data_points=1,
aggregation_temporality=2, is_monotonic=3}``, ``NumberDataPoint{start=2, time=3,
as_double=4, as_int=6 (sfixed64), attributes=7, flags=8}``,
``HistogramDataPoint{start=2, time=3, count=4, sum=5, bucket_counts=6 (fixed64),
explicit_bounds=7 (double), attributes=9, flags=10}``,
``ExponentialHistogramDataPoint{attributes=1, start=2, time=3, count=4, sum=5,
scale=6 (sint32), zero_count=7, positive=8, negative=9, flags=10}`` with
``Buckets{offset=1 (sint32), bucket_counts=2 (uint64)}``, ``SummaryDataPoint{start=2,
time=3, count=4, sum=5, attributes=7, flags=8}``. Repeated numbers are read packed or
not, as protobuf requires of a parser.

The output is the OTLP JSON shape (``resourceMetrics`` → ``scopeMetrics`` → ``metrics``,
numbers as ints/floats), so :func:`console.core.otlp_metrics.parse_resource_metrics`
maps both encodings. Bounded like the trace decoder: the top-level entries are counted
first; scopes, metrics, data points, key-values and buckets are counted against
:class:`DecodeLimits` before they are built (``LimitError``); malformed bytes raise
``ProtoError``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from console.core.otlp_limits import DecodeLimits, LimitError
from console.engine.otlp.proto import (
    _F64,
    _U64,
    Buf,
    ProtoError,
    _attrs_into,
    _Budget,
    _expect,
    _fields,
    _str,
    _varint,
    count_resource_spans,
    encode_export_response,
    resource,
)

__all__ = ["decode_metrics_request", "encode_metrics_response"]

#: ``ExportMetricsServiceResponse`` has the trace response's layout: partial_success = 1
#: holding rejected (int64) = 1 and error_message = 2.
encode_metrics_response = encode_export_response


class _MetricBudget(_Budget):
    __slots__ = ("buckets", "points")

    def __init__(self, limits: DecodeLimits) -> None:
        super().__init__(limits)
        self.points = self.buckets = 0

    def point(self) -> None:
        self.points += 1
        if self.points > self.limits.max_data_points:
            raise LimitError(
                f"more than {self.limits.max_data_points} data points in one request; "
                "send smaller batches"
            )
        self.item()

    def bucket_list(self, n: int) -> None:
        if n > self.limits.max_buckets:
            raise LimitError(
                f"a histogram point with {n} buckets (limit {self.limits.max_buckets})"
            )
        self.buckets += n
        # a bucket count costs ~40 bytes, an item ~1 KiB: 16 buckets are one item
        if self.buckets > 16 * self.limits.max_items:
            raise LimitError("too many histogram buckets in one request; send smaller batches")


def _double(v: int) -> float:
    return float(_F64.unpack(_U64.pack(v))[0])


def _signed64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _zigzag(v: int) -> int:
    return (v >> 1) ^ -(v & 1)


def _packed_fixed64(
    buf: Buf, w: int, v: Any, out: list[Any], double: bool, budget: _MetricBudget, what: str
) -> None:
    if w == 1:
        budget.bucket_list(len(out) + 1)
        out.append(_double(v) if double else v)
        return
    _expect(w, 2, what)
    s, e = v
    if (e - s) % 8:
        raise ProtoError(f"{what}: packed length is not a multiple of 8")
    budget.bucket_list(len(out) + (e - s) // 8)
    fmt = f"<{(e - s) // 8}{'d' if double else 'Q'}"
    out.extend(struct.unpack_from(fmt, buf, s))


def _packed_varint(
    buf: Buf, w: int, v: Any, out: list[int], budget: _MetricBudget, what: str
) -> None:
    if w == 0:
        budget.bucket_list(len(out) + 1)
        out.append(v)
        return
    _expect(w, 2, what)
    pos, end = v
    budget.bucket_list(len(out) + (end - pos))  # at least one byte each: an upper bound
    while pos < end:
        n, pos = _varint(buf, pos, end)
        out.append(n)


#: a point's scalar field: (JSON key, wire type, conversion or None, name in errors)
_Scalar = tuple[str, int, Any, str]
#: start (2) and time (3), shared by every point type
_COMMON: dict[int, _Scalar] = {
    2: ("startTimeUnixNano", 1, None, "startTimeUnixNano"),
    3: ("timeUnixNano", 1, None, "timeUnixNano"),
}


def _scalars(message: str, fields: dict[int, tuple[str, int, Any, str]]) -> dict[int, _Scalar]:
    """``_COMMON`` and ``message``'s own scalars (field → (JSON key, wire type, conversion,
    proto name))."""
    return _COMMON | {
        n: (key, wire, conv, f"{message}.{name}") for n, (key, wire, conv, name) in fields.items()
    }


def _scalar_into(out: dict[str, Any], w: int, v: Any, spec: _Scalar) -> None:
    key, want, conv, what = spec
    _expect(w, want, what)
    out[key] = v if conv is None else conv(v)


_NUMBER = _scalars(
    "NumberDataPoint",
    {
        4: ("asDouble", 1, _double, "as_double"),
        6: ("asInt", 1, _signed64, "as_int"),
        8: ("flags", 0, None, "flags"),
    },
)
_HISTOGRAM = _scalars(
    "HistogramDataPoint",
    {
        4: ("count", 1, None, "count"),
        5: ("sum", 1, _double, "sum"),
        10: ("flags", 0, None, "flags"),
    },
)
_EXPONENTIAL = _scalars(
    "ExponentialHistogramDataPoint",
    {
        4: ("count", 1, None, "count"),
        5: ("sum", 1, _double, "sum"),
        6: ("scale", 0, _zigzag, "scale"),
        7: ("zeroCount", 1, None, "zero_count"),
        10: ("flags", 0, None, "flags"),
    },
)
_SUMMARY = _scalars(
    "SummaryDataPoint",
    {4: ("count", 1, None, "count"), 5: ("sum", 1, _double, "sum"), 8: ("flags", 0, None, "flags")},
)


def _simple_point(
    message: str, scalars: dict[int, _Scalar], attributes: int
) -> Callable[[Buf, int, int, _MetricBudget], dict[str, Any]]:
    """The decoder of a point made of scalars and attributes (field ``attributes``) only."""

    def decode(buf: Buf, s: int, e: int, budget: _MetricBudget) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for n, w, v in _fields(buf, s, e):
            spec = scalars.get(n)
            if spec is not None:
                _scalar_into(out, w, v, spec)
            elif n == attributes:
                _attrs_into(out, buf, w, v, f"{message}.attributes", budget)
        return out

    return decode


_number_point = _simple_point("NumberDataPoint", _NUMBER, 7)
_summary_point = _simple_point("SummaryDataPoint", _SUMMARY, 7)


def _histogram_point(buf: Buf, s: int, e: int, budget: _MetricBudget) -> dict[str, Any]:
    out: dict[str, Any] = {}
    counts: list[Any] = []
    bounds: list[Any] = []
    for n, w, v in _fields(buf, s, e):
        spec = _HISTOGRAM.get(n)
        if spec is not None:
            _scalar_into(out, w, v, spec)
        elif n == 6:
            _packed_fixed64(buf, w, v, counts, False, budget, "HistogramDataPoint.bucket_counts")
        elif n == 7:
            _packed_fixed64(buf, w, v, bounds, True, budget, "HistogramDataPoint.explicit_bounds")
        elif n == 9:
            _attrs_into(out, buf, w, v, "HistogramDataPoint.attributes", budget)
    out["bucketCounts"] = counts
    out["explicitBounds"] = bounds
    return out


def _buckets(buf: Buf, span: tuple[int, int], budget: _MetricBudget) -> dict[str, Any]:
    out: dict[str, Any] = {"offset": 0}
    counts: list[int] = []
    for n, w, v in _fields(buf, span[0], span[1]):
        if n == 1:
            _expect(w, 0, "Buckets.offset")
            out["offset"] = _zigzag(v)
        elif n == 2:
            _packed_varint(buf, w, v, counts, budget, "Buckets.bucket_counts")
    out["bucketCounts"] = counts
    return out


def _exponential_point(buf: Buf, s: int, e: int, budget: _MetricBudget) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, w, v in _fields(buf, s, e):
        spec = _EXPONENTIAL.get(n)
        if spec is not None:
            _scalar_into(out, w, v, spec)
        elif n == 1:
            _attrs_into(out, buf, w, v, "ExponentialHistogramDataPoint.attributes", budget)
        elif n in (8, 9):
            _expect(w, 2, "ExponentialHistogramDataPoint.positive/negative")
            out["positive" if n == 8 else "negative"] = _buckets(buf, v, budget)
    return out


#: Metric field number → (JSON key, point decoder)
_DATA = {
    5: ("gauge", _number_point),
    7: ("sum", _number_point),
    9: ("histogram", _histogram_point),
    10: ("exponentialHistogram", _exponential_point),
    11: ("summary", _summary_point),
}


def _data(buf: Buf, span: tuple[int, int], decode: Any, budget: _MetricBudget) -> dict[str, Any]:
    out: dict[str, Any] = {}
    points: list[dict[str, Any]] = []
    for n, w, v in _fields(buf, span[0], span[1]):
        if n == 1:
            _expect(w, 2, "data_points")
            budget.point()
            points.append(decode(buf, v[0], v[1], budget))
        elif n == 2:
            _expect(w, 0, "aggregation_temporality")
            out["aggregationTemporality"] = v
        elif n == 3:
            _expect(w, 0, "is_monotonic")
            out["isMonotonic"] = bool(v)
    out["dataPoints"] = points
    return out


def _metric(buf: Buf, s: int, e: int, budget: _MetricBudget) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, w, v in _fields(buf, s, e):
        if n == 1:
            _expect(w, 2, "Metric.name")
            out["name"] = _str(buf, v)
        elif n == 3:
            _expect(w, 2, "Metric.unit")
            out["unit"] = _str(buf, v)
        elif n in _DATA:
            _expect(w, 2, "Metric.data")
            key, decode = _DATA[n]
            for other in ("gauge", "sum", "histogram", "exponentialHistogram", "summary"):
                out.pop(other, None)  # a oneof: the last one on the wire wins
            out[key] = _data(buf, v, decode, budget)
    return out


def decode_metrics_request(data: Buf, limits: DecodeLimits | None = None) -> dict[str, Any]:
    """``ExportMetricsServiceRequest`` bytes → the OTLP JSON dict shape.

    Raises ProtoError for malformed bytes and LimitError for a request over ``limits``.
    """
    buf = data if isinstance(data, bytes | bytearray) else bytes(data)
    limits = limits or DecodeLimits()
    count_resource_spans(buf, limits.max_resource_spans, "resource_metrics")
    budget = _MetricBudget(limits)
    out: list[dict[str, Any]] = []
    for n, w, v in _fields(buf, 0, len(buf)):
        if n != 1:
            continue
        _expect(w, 2, "ExportMetricsServiceRequest.resource_metrics")
        budget.item()
        rm: dict[str, Any] = {"resource": {}, "scopeMetrics": []}
        for m, ww, vv in _fields(buf, v[0], v[1]):
            if m == 1:
                _expect(ww, 2, "ResourceMetrics.resource")
                rm["resource"] = resource(buf, vv, budget)
            elif m == 2:
                _expect(ww, 2, "ResourceMetrics.scope_metrics")
                budget.scope()
                metrics = []
                for k, w3, v3 in _fields(buf, vv[0], vv[1]):
                    if k == 2:
                        _expect(w3, 2, "ScopeMetrics.metrics")
                        budget.item()
                        metrics.append(_metric(buf, v3[0], v3[1], budget))
                rm["scopeMetrics"].append({"metrics": metrics})
        out.append(rm)
    return {"resourceMetrics": out}
