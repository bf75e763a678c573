"""OTLP metric data (``MetricsData`` / ``ExportMetricsServiceRequest``) → normalised points.

One mapping for OTLP/HTTP JSON (64-bit integers as decimal strings, enums as integers or
names) and the receiver's protobuf decoder (:mod:`console.engine.otlp.proto_metrics`,
which produces the same shape with Python ints). Every data point of every metric type is
checked — Gauge, Sum (monotonic or not; delta or cumulative), Histogram (explicit
bounds), ExponentialHistogram (scale, zero count, positive and negative buckets, offsets)
and Summary — so a bad point is reported to the sender (``partialSuccess``) whatever the
metric; which points then feed function health is :mod:`console.engine.otlp.health`'s
choice.

A point that breaks a rule (no time, a non-finite value, bucket counts that do not fit
the bounds, a scale out of range, over a per-point limit) is rejected on its own and
counted; a wrong *shape* (not lists/objects where OTLP has them) raises ValueError; with
``limits``, a request over a request-wide bound raises LimitError (both: 400). A point
flagged ``NO_RECORDED_VALUE`` (a stale marker) is skipped without counting as rejected.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from console.core.otlp import MAX_NS, _over, _text, attributes, uint64
from console.core.otlp_limits import DecodeLimits, LimitError, NumberError, int64
from console.core.sanitize import clean_line

#: ``AggregationTemporality``: 1 delta, 2 cumulative (0 unspecified: not usable for sums).
DELTA, CUMULATIVE = 1, 2
_TEMPORALITY: Mapping[int | str, int] = {
    0: 0,
    1: DELTA,
    2: CUMULATIVE,
    "AGGREGATION_TEMPORALITY_UNSPECIFIED": 0,
    "AGGREGATION_TEMPORALITY_DELTA": DELTA,
    "AGGREGATION_TEMPORALITY_CUMULATIVE": CUMULATIVE,
}
NO_RECORDED_VALUE = 1
#: The scales an exponential histogram may use (the SDKs use 20 … -10).
SCALES = (-10, 20)
MAX_U64 = MAX_NS  # counts are uint64; what SQLite and the mapping accept is int64
SHAPES = ("gauge", "sum", "histogram", "exponentialHistogram", "summary")


@dataclass(slots=True)
class Point:
    """One data point, with its metric's name, unit and type.

    ``value`` is a number point's value, or a histogram's count. ``counts`` are an explicit
    histogram's bucket counts (``len(bounds) + 1``) or an exponential histogram's positive
    buckets from ``offset``; ``negative`` is the total of its negative buckets.
    """

    metric: str
    unit: str
    shape: str  # one of SHAPES
    temporality: int  # DELTA, CUMULATIVE, 0 (a gauge, a summary)
    monotonic: bool
    resource: Mapping[str, Any]
    attributes: Mapping[str, Any]
    start_ns: int
    time_ns: int
    value: float
    bounds: tuple[float, ...] = ()
    counts: tuple[float, ...] = ()
    scale: int = 0
    offset: int = 0
    zero_count: float = 0.0
    negative: float = 0.0


@dataclass
class MetricBatch:
    """Points decoded from one payload, and the points rejected as invalid (with why)."""

    points: list[Point] = field(default_factory=list)
    rejected: int = 0
    errors: list[str] = field(default_factory=list)

    def reject(self, why: str, n: int = 1) -> None:
        self.rejected += n
        if len(self.errors) < 5:
            self.errors.append(why)


def _finite(v: Any, what: str) -> float:
    if isinstance(v, bool) or v is None:
        raise ValueError(f"{what} is not a number")
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"{what} is not finite")
    return f


def _count(v: Any, what: str) -> float:
    if type(v) is int and 0 <= v <= MAX_U64:  # the protobuf decoder's: no parsing needed
        return float(v)
    return float(uint64(v))


def _counts(values: list[Any]) -> tuple[float, ...]:
    if all(type(c) is int and 0 <= c <= MAX_U64 for c in values):
        return tuple(map(float, values))
    return tuple(_count(c, "a bucket count") for c in values)


def _number(raw: Mapping[str, Any]) -> float:
    if raw.get("asDouble") is not None:
        return _finite(raw["asDouble"], "asDouble")
    if raw.get("asInt") is not None:
        return float(int64(raw["asInt"]))
    raise ValueError("a number point without asDouble or asInt")


def _list(v: Any, what: str) -> list[Any]:
    if v is None:
        return []
    if not isinstance(v, list):
        raise ValueError(f"{what} is not a list")
    return v


def _point(
    raw: Mapping[str, Any],
    metric: str,
    unit: str,
    shape: str,
    temporality: int,
    monotonic: bool,
    resource: Mapping[str, Any],
    limits: DecodeLimits | None,
) -> Point | None:
    flags = raw.get("flags") or 0
    if isinstance(flags, int) and not isinstance(flags, bool) and flags & NO_RECORDED_VALUE:
        return None
    time_ns = uint64(raw.get("timeUnixNano"))
    if not time_ns:
        raise ValueError("no timeUnixNano")
    start_ns = uint64(raw.get("startTimeUnixNano"))
    if start_ns > time_ns:
        raise ValueError("startTimeUnixNano is after timeUnixNano")
    attrs = attributes(raw.get("attributes"), limits)
    p = Point(metric, unit, shape, temporality, monotonic, resource, attrs, start_ns, time_ns, 0.0)
    max_buckets = limits.max_buckets if limits is not None else 10_000
    if shape in ("gauge", "sum"):
        p.value = _number(raw)
    elif shape == "histogram":
        p.value = _count(raw.get("count"), "count")
        counts = _list(raw.get("bucketCounts"), "bucketCounts")
        bounds = _list(raw.get("explicitBounds"), "explicitBounds")
        if len(counts) > max_buckets or len(bounds) > max_buckets:
            raise ValueError(f"{len(counts)} buckets (limit {max_buckets})")
        if counts and len(counts) != len(bounds) + 1:
            raise ValueError(f"{len(counts)} bucket counts for {len(bounds)} bounds")
        p.bounds = tuple(_finite(b, "a bound") for b in bounds)
        if any(b <= a for a, b in zip(p.bounds, p.bounds[1:], strict=False)):
            raise ValueError("explicitBounds are not increasing")
        p.counts = _counts(counts)
    elif shape == "exponentialHistogram":
        p.value = _count(raw.get("count"), "count")
        scale = raw.get("scale") or 0
        if isinstance(scale, bool) or not isinstance(scale, int):
            raise ValueError(f"scale {str(scale)[:20]!r} is not an integer")
        if not SCALES[0] <= scale <= SCALES[1]:
            raise ValueError(f"scale {scale} is out of {SCALES[0]}..{SCALES[1]}")
        p.scale = scale
        p.zero_count = _count(raw.get("zeroCount"), "zeroCount")
        pos = raw.get("positive") or {}
        neg = raw.get("negative") or {}
        if not isinstance(pos, Mapping) or not isinstance(neg, Mapping):
            raise ValueError("positive/negative is not an object")
        pc = _list(pos.get("bucketCounts"), "positive.bucketCounts")
        nc = _list(neg.get("bucketCounts"), "negative.bucketCounts")
        if len(pc) + len(nc) > max_buckets:
            raise ValueError(f"{len(pc) + len(nc)} buckets (limit {max_buckets})")
        offset = pos.get("offset") or 0
        if isinstance(offset, bool) or not isinstance(offset, int) or abs(offset) > 1 << 31:
            raise ValueError("positive.offset is not a 32-bit integer")
        p.offset = offset
        p.counts = _counts(pc)
        p.negative = sum(_counts(nc))
    else:  # summary: counted and summed, never read for health
        p.value = _count(raw.get("count"), "count")
    return p


def _points_of(metric: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    for shape in SHAPES:
        body = metric.get(shape)
        if isinstance(body, Mapping):
            return shape, body
    return None


def parse_resource_metrics(
    resource_metrics: Any, *, limits: DecodeLimits | None = None
) -> MetricBatch:
    """Map a ``resourceMetrics`` list to points (see the module docstring for the rules)."""
    if resource_metrics is None:
        return MetricBatch()
    if not isinstance(resource_metrics, list):
        raise ValueError("resourceMetrics is not a list")
    if limits is not None:
        check_metric_counts(resource_metrics, limits)
    batch = MetricBatch()
    for rm in resource_metrics:
        if not isinstance(rm, Mapping):
            raise ValueError("a resourceMetrics entry is not an object")
        try:
            resource = attributes((rm.get("resource") or {}).get("attributes"), limits)
        except NumberError:
            raise
        except ValueError as exc:
            raise LimitError(f"resource: {exc}") from None
        scopes = _list(
            rm.get("scopeMetrics") or rm.get("instrumentationLibraryMetrics"), "scopeMetrics"
        )
        for sm in scopes:
            metrics = _list(sm.get("metrics") if isinstance(sm, Mapping) else None, "metrics")
            for metric in metrics:
                if not isinstance(metric, Mapping):
                    batch.reject("a metric is not an object")
                    continue
                _metric(metric, resource, limits, batch)
    return batch


def _metric(
    metric: Mapping[str, Any],
    resource: Mapping[str, Any],
    limits: DecodeLimits | None,
    batch: MetricBatch,
) -> None:
    found = _points_of(metric)
    if found is None:
        return  # no data (or a type this version does not know): nothing to take
    shape, body = found
    raw_points = _list(body.get("dataPoints"), "dataPoints")
    try:
        name = clean_line(str(_text(metric.get("name") or "", limits)))
        unit = clean_line(str(_text(metric.get("unit") or "", limits)))
        if not name:
            raise ValueError("a metric without a name")
        temporality = _TEMPORALITY.get(body.get("aggregationTemporality") or 0)
        if temporality is None:
            raise ValueError(
                f"unknown aggregationTemporality {body.get('aggregationTemporality')!r}"
            )
        if shape in ("sum", "histogram", "exponentialHistogram") and not temporality:
            raise ValueError(f"{shape} without an aggregationTemporality")
    except ValueError as exc:
        batch.reject(f"metric {str(metric.get('name'))[:60]!r}: {exc}", len(raw_points))
        return
    monotonic = bool(body.get("isMonotonic")) if shape == "sum" else shape != "gauge"
    for raw in raw_points:
        if not isinstance(raw, Mapping):
            batch.reject(f"metric {name[:60]!r}: a data point is not an object")
            continue
        try:
            p = _point(raw, name, unit, shape, temporality, monotonic, resource, limits)
        except NumberError as exc:
            batch.reject(f"metric {name[:60]!r}: {exc}")
            continue
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            batch.reject(f"metric {name[:60]!r}: {exc}")
            continue
        if p is not None:
            batch.points.append(p)


def check_metric_counts(resource_metrics: list[Any], limits: DecodeLimits) -> None:
    """Raise LimitError when there are more resource, scope or data-point entries than
    allowed (lengths only: cheap, before any point is mapped)."""
    _over("resource_metrics entries", len(resource_metrics), limits.max_resource_spans)
    scopes = points = 0
    for rm in resource_metrics:
        sms = (
            (rm.get("scopeMetrics") or rm.get("instrumentationLibraryMetrics"))
            if isinstance(rm, Mapping)
            else None
        )
        if not isinstance(sms, list):
            continue
        scopes += len(sms)
        for sm in sms:
            ms = sm.get("metrics") if isinstance(sm, Mapping) else None
            for m in ms if isinstance(ms, list) else ():
                found = _points_of(m) if isinstance(m, Mapping) else None
                dps = found[1].get("dataPoints") if found else None
                points += len(dps) if isinstance(dps, list) else 0
    _over("scope_metrics entries", scopes, limits.max_scope_spans)
    _over("data points", points, limits.max_data_points)
