"""Rate, errors and duration (RED) of functions from OpenTelemetry data: pure, no I/O.

Received metric points and spans become **tallies**: per function, per minute, the
requests by response class and a latency histogram with fixed bounds
(:data:`BOUNDS_MS`). The store sums tallies over windows; :func:`signals_of` turns a sum
into :class:`~console.core.model.Signals`.

Naming rule (the function id, ``Function.make_id(service, operation)``), so a function
seen through OTLP is the same function the catalog and Prometheus report:

==============================  ================================================  ==========
seen as                         operation                                         kind
==============================  ================================================  ==========
FaaS (``faas.*`` present)       ``faas.name`` (point/span, else resource)          serverless
RPC (``rpc.system`` / rpc.*)    ``rpc.service/rpc.method`` (else the span name)    rpc
HTTP (a request method)         ``METHOD route`` (``http.route``), else ``METHOD``  http
messaging (CONSUMER, process)   ``messaging.destination.name``                     worker
another SERVER span             the span name                                      http
==============================  ================================================  ==========

``service`` is the resource's ``service.name``. ``METHOD route`` is exactly what the
Prometheus plugin builds from ``http_request_method`` and ``http_route`` (its
``operation_of``), so ``checkout:POST /pay`` is one function whichever way it arrives.

Response classes follow :mod:`console.core.classify` (HTTP status codes; a gRPC status
is mapped to the same classes: DEADLINE_EXCEEDED → timeout, RESOURCE_EXHAUSTED →
throttle, UNAUTHENTICATED / PERMISSION_DENIED → auth, INVALID_ARGUMENT → serialization,
UNKNOWN / INTERNAL / UNAVAILABLE / DATA_LOSS → 5xx, OK → ok, the rest → client). Without a
code: ``error.type`` naming a timeout is a timeout, another ``error.type`` or an ERROR span
status is a 5xx, nothing at all is ok for a span and unknown for a metric point.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Any

from console.core.classify import DEFAULT_COUNTED, status_class, success_rate
from console.core.model import Function, Kind, Signals, Span
from console.core.sanitize import clean_line

#: Upper bounds (ms) of the stored latency histogram; one more bucket holds what is above.
#: They include every default bound of the OpenTelemetry SDKs' HTTP duration histograms
#: (0.005 … 10 s for ``http.server.request.duration``, 5 … 10,000 ms for the older
#: ``http.server.duration``), so such a histogram is stored without loss: a quantile lands
#: in the very bucket it lands in on the sender's side. Other layouts are spread evenly
#: within each sender bucket (what linear interpolation assumes anyway); a sender's +Inf
#: bucket is counted in the fixed bucket just above its highest bound (a quantile there
#: reads as at most that bucket's upper bound; beyond 60 s it is flagged a lower bound).
BOUNDS_MS: tuple[float, ...] = (
    1.0, 2.5, 5.0, 7.5, 10.0, 25.0, 50.0, 75.0, 100.0, 150.0, 250.0, 350.0, 500.0,
    750.0, 1000.0, 1500.0, 2500.0, 5000.0, 7500.0, 10000.0, 15000.0, 30000.0, 60000.0,
)  # fmt: skip
NB = len(BOUNDS_MS) + 1

#: The counting columns of a tally, in order; the histogram buckets ``h0`` … follow.
COUNTS: tuple[str, ...] = (
    "requests",  # every request
    "known",  # requests whose class is known
    "ok",
    "e5xx",
    "timeout",
    "throttle",
    "auth",
    "serialization",
    "client",
    "cold",  # cold starts
    "cold_known",  # requests whose cold-start state is known
)
HIST: tuple[str, ...] = tuple(f"h{i}" for i in range(NB))
COLUMNS: tuple[str, ...] = COUNTS + HIST
WIDTH = len(COLUMNS)
_IX = {name: i for i, name in enumerate(COLUMNS)}
H0 = len(COUNTS)
_CLASS_COLUMN = {
    "ok": "ok",
    "5xx": "e5xx",
    "timeout": "timeout",
    "throttle": "throttle",
    "auth": "auth",
    "serialization": "serialization",
    "client": "client",
}
#: classify's class → the Signals field, as its columns here
_RATE_FIELDS = {
    "error_5xx_rate": "e5xx",
    "timeout_rate": "timeout",
    "throttle_rate": "throttle",
    "auth_error_rate": "auth",
    "serialization_error_rate": "serialization",
}
_COUNTED_COLUMNS = tuple(_CLASS_COLUMN[c] for c in sorted(DEFAULT_COUNTED))

#: gRPC status code → response class (https://grpc.io/docs/guides/status-codes/).
GRPC_CLASS: Mapping[int, str] = {
    0: "ok",
    1: "client",  # CANCELLED
    2: "5xx",  # UNKNOWN
    3: "serialization",  # INVALID_ARGUMENT
    4: "timeout",  # DEADLINE_EXCEEDED
    5: "client",
    6: "client",
    7: "auth",  # PERMISSION_DENIED
    8: "throttle",  # RESOURCE_EXHAUSTED
    9: "client",
    10: "client",
    11: "client",
    12: "client",  # UNIMPLEMENTED
    13: "5xx",  # INTERNAL
    14: "5xx",  # UNAVAILABLE
    15: "5xx",  # DATA_LOSS
    16: "auth",  # UNAUTHENTICATED
}
_GRPC_NAMES = {
    "OK": 0, "CANCELLED": 1, "UNKNOWN": 2, "INVALID_ARGUMENT": 3, "DEADLINE_EXCEEDED": 4,
    "NOT_FOUND": 5, "ALREADY_EXISTS": 6, "PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8,
    "FAILED_PRECONDITION": 9, "ABORTED": 10, "OUT_OF_RANGE": 11, "UNIMPLEMENTED": 12,
    "INTERNAL": 13, "UNAVAILABLE": 14, "DATA_LOSS": 15, "UNAUTHENTICATED": 16,
}  # fmt: skip

#: The longest service or operation name kept (longer: the point or span is not tallied).
MAX_NAME = 512


def new_tally() -> list[float]:
    """An empty tally: every count 0."""
    return [0.0] * WIDTH


def add_into(into: list[float], other: Sequence[float], weight: float = 1.0) -> None:
    """``into += weight × other``, column by column."""
    for i, v in enumerate(other):
        if v:
            into[i] += v * weight


# -- naming ------------------------------------------------------------------------------


def _s(v: Any) -> str:
    return v if isinstance(v, str) else "" if v is None else str(v)


def operation_of(route: str, method: str) -> str:
    """``"POST /pay"``, ``"/pay"`` or ``"POST"`` — the Prometheus plugin's rule."""
    return f"{method} {route}" if method and route else (route or method)


Identity = tuple[str, str, Kind]


def _faas_name(attrs: Mapping[str, Any], resource: Mapping[str, Any]) -> str:
    return _s(attrs.get("faas.name") or resource.get("faas.name"))


def identity(
    family: str, attrs: Mapping[str, Any], resource: Mapping[str, Any], span_name: str = ""
) -> Identity | None:
    """(service, operation, kind) by the naming rule; None when it names nothing usable.

    ``family`` is ``http``, ``rpc``, ``messaging``, ``faas`` (metrics) or ``span``.
    """
    service = _s(resource.get("service.name")) or "unknown_service"
    kind = Kind.HTTP
    if family == "span":
        if any(k.startswith("faas.") for k in attrs) or (
            "faas.name" in resource and "faas.trigger" in attrs
        ):
            family = "faas"
        elif "rpc.system" in attrs or "rpc.method" in attrs:
            family = "rpc"
        elif "http.request.method" in attrs or "http.method" in attrs:
            family = "http"
        elif "messaging.system" in attrs or "messaging.destination.name" in attrs:
            family = "messaging"
        else:
            family = "other"
    if family == "faas":
        op, kind = _faas_name(attrs, resource) or span_name, Kind.SERVERLESS
    elif family == "rpc":
        svc, meth = _s(attrs.get("rpc.service")), _s(attrs.get("rpc.method"))
        op, kind = (f"{svc}/{meth}" if svc and meth else span_name or meth), Kind.RPC
    elif family == "http":
        method = _s(attrs.get("http.request.method") or attrs.get("http.method"))
        op = operation_of(_s(attrs.get("http.route")), method)
    elif family == "messaging":
        dest = _s(attrs.get("messaging.destination.name") or attrs.get("messaging.destination"))
        op, kind = dest or span_name, Kind.WORKER
    else:
        op = span_name
    if len(service) > MAX_NAME or len(op) > MAX_NAME:
        return None
    return clean_line(service), clean_line(op), kind


# -- classes -----------------------------------------------------------------------------


def _int(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.isdigit() and len(v) <= 3:
        return int(v)
    return None


def _from_error_type(error_type: str) -> str:
    return "timeout" if "timeout" in error_type.lower() else "5xx"


def response_class(family: str, attrs: Mapping[str, Any], span_status: str = "") -> str | None:
    """The response class of one request (``classify`` classes); None when unknown."""
    if family == "rpc":
        code = _int(attrs.get("rpc.grpc.status_code"))
        if code is None:
            name = _s(attrs.get("rpc.response.status_code")).upper()
            code = _GRPC_NAMES.get(name)
        if code is not None:
            return GRPC_CLASS.get(code, "client")
    else:
        code = _int(attrs.get("http.response.status_code", attrs.get("http.status_code")))
        if code is not None and 100 <= code <= 599:
            return status_class(code)
    error_type = _s(attrs.get("error.type"))
    if error_type and error_type != "_OTHER":
        return _from_error_type(error_type)
    if span_status == "error":
        return "5xx"
    if span_status:
        return "ok"
    return "unknown" if error_type else None


def count_class(tally: list[float], cls: str | None, n: float) -> None:
    """Count ``n`` requests of class ``cls`` (None: unknown) into ``tally``."""
    tally[0] += n
    column = _CLASS_COLUMN.get(cls or "")
    if column is not None:
        tally[1] += n
        tally[_IX[column]] += n


# -- histograms --------------------------------------------------------------------------


def bucket_of(ms: float) -> int:
    """The index of the fixed bucket holding ``ms`` (upper bounds inclusive)."""
    return bisect_left(BOUNDS_MS, ms)


def spread(lo: float, hi: float, n: float, into: list[float]) -> None:
    """Add ``n`` observations spread evenly over ``(lo, hi]`` ms into the fixed buckets
    (``into`` holds :data:`NB` values). Consistent with linear interpolation: a quantile
    read from the result lies in the interval it lies in on the sender's side."""
    if n <= 0:
        return
    if math.isinf(hi) and not math.isinf(lo):
        # a sender's +Inf bucket: counted in the fixed bucket just above its highest bound
        into[min(bisect_right(BOUNDS_MS, lo), NB - 1)] += n
        return
    if not hi > lo or math.isinf(lo) or math.isinf(hi):
        into[bucket_of(hi if not math.isinf(hi) else lo)] += n
        return
    lo = max(lo, 0.0) if hi > 0 else lo
    if hi <= 0:
        into[0] += n
        return
    i = bucket_of(lo) if lo > 0 else 0
    width = hi - lo
    prev = lo
    while i < NB:
        top = BOUNDS_MS[i] if i < len(BOUNDS_MS) else math.inf
        cut = min(top, hi)
        if cut > prev:
            into[i] += n * (cut - prev) / width
        if top >= hi:
            return
        prev = top
        i += 1


def explicit_histogram(
    bounds: Sequence[float], counts: Sequence[float], to_ms: float, into: list[float]
) -> None:
    """An OTLP explicit-bounds histogram (``counts`` has ``len(bounds) + 1`` entries) in
    the sender's unit, ``to_ms`` milliseconds per unit, added into the fixed buckets."""
    plan = _plan(tuple(bounds), to_ms)
    for i, c in enumerate(counts):
        if c:
            for j, f in plan[i]:
                into[j] += c * f


@lru_cache(maxsize=256)
def _plan(bounds: tuple[float, ...], to_ms: float) -> tuple[tuple[tuple[int, float], ...], ...]:
    """For each source bucket, the fixed buckets it is spread over and each one's share
    (worked out once per layout: a sender uses a handful)."""
    out = []
    lo = -math.inf
    for i in range(len(bounds) + 1):
        hi = bounds[i] * to_ms if i < len(bounds) else math.inf
        share = [0.0] * NB
        if math.isinf(lo):
            share[bucket_of(hi) if not math.isinf(hi) else NB - 1] = 1.0
        else:
            spread(lo, hi, 1.0, share)
        out.append(tuple((j, f) for j, f in enumerate(share) if f))
        lo = hi
    return tuple(out)


def exponential_histogram(
    scale: int,
    zero_count: float,
    offset: int,
    counts: Sequence[float],
    negative: float,
    to_ms: float,
    into: list[float],
) -> None:
    """An OTLP exponential histogram (bucket ``offset + k`` is ``(base^(offset+k),
    base^(offset+k+1)]`` with ``base = 2^(2^-scale)``) added into the fixed buckets. Zero
    and negative observations (a duration cannot be below 0) go to the first bucket."""
    into[0] += zero_count + negative
    base_log = math.ldexp(math.log(2.0), -scale)  # ln(base)
    for k, c in enumerate(counts):
        if not c:
            continue
        index = offset + k
        try:
            lo = math.exp(index * base_log) * to_ms
            hi = math.exp((index + 1) * base_log) * to_ms
        except OverflowError:
            into[NB - 1] += c
            continue
        spread(lo, hi, c, into)


def quantile(hist: Sequence[float], q: float) -> tuple[float | None, bool]:
    """The ``q`` quantile (ms) of fixed-bucket counts by linear interpolation, and whether
    it is only a lower bound (it falls in the bucket above the last bound). None: empty."""
    total = sum(hist)
    if total <= 0:
        return None, False
    rank = q * total
    seen = 0.0
    for i, c in enumerate(hist):
        if c <= 0:
            continue
        if seen + c >= rank:
            if i >= len(BOUNDS_MS):
                return BOUNDS_MS[-1], True
            lo = BOUNDS_MS[i - 1] if i else 0.0
            hi = BOUNDS_MS[i]
            return lo + (hi - lo) * max(0.0, rank - seen) / c, False
        seen += c
    return BOUNDS_MS[-1], True


# -- spans -------------------------------------------------------------------------------

#: Span kinds that are a function's own work (an entry point of the service).
ENTRY_KINDS = frozenset({"server", "consumer"})


def span_tally(
    span: Span, resource_service: str | None = None
) -> tuple[Identity, list[float]] | None:
    """A SERVER or CONSUMER span as (identity, a one-request tally); None for other spans."""
    if span.kind not in ENTRY_KINDS:
        return None
    attrs = span.attributes
    resource: dict[str, Any] = {"service.name": resource_service or span.service}
    who = identity("span", attrs, resource, span.name)
    if who is None:
        return None
    family = "rpc" if who[2] is Kind.RPC else "http"
    t = new_tally()
    count_class(t, response_class(family, attrs, span.status or "unset"), 1.0)
    t[H0 + bucket_of(span.duration_ns / 1e6)] += 1.0
    cold = attrs.get("faas.coldstart")
    if isinstance(cold, bool):
        t[_IX["cold_known"]] = 1.0
        t[_IX["cold"]] = 1.0 if cold else 0.0
    return who, t


# -- signals -----------------------------------------------------------------------------


def _rate(t: Sequence[float], column: str) -> float | None:
    known = t[1]
    return t[_IX[column]] / t[0] if known > 0 and t[0] > 0 else None


def bad(t: Sequence[float]) -> float:
    """Requests counted against the SLO (the default classes: 5xx and timeouts)."""
    return sum(t[_IX[c]] for c in _COUNTED_COLUMNS)


def signals_of(
    now_tally: Sequence[float],
    seconds: float,
    latency: Sequence[float] | None,
    windows: Mapping[str, tuple[float, float] | None],
) -> Signals:
    """Signals from a refresh window's tally (``seconds`` long as observed), the histogram
    to read latencies from (``None``: the tally's own), and per burn window its
    (requests, bad requests), or None where the window is not yet filled (no error ratio:
    the burn rate stays null rather than guessed)."""
    t = now_tally
    hist = latency if latency is not None else t[H0:]
    rates: dict[str, Any] = {f: _rate(t, c) for f, c in _RATE_FIELDS.items()}
    cold = t[_IX["cold"]] / t[_IX["cold_known"]] if t[_IX["cold_known"]] > 0 else None
    p50, _ = quantile(hist, 0.5)
    p95, c95 = quantile(hist, 0.95)
    p99, c99 = quantile(hist, 0.99)
    capped = tuple(n for n, c in (("p95_ms", c95), ("p99_ms", c99)) if c)
    ratios: dict[str, float] = {}
    reqs: dict[str, float] = {}
    for w, v in windows.items():
        if v is None:
            continue
        n, b = v
        reqs[w] = n
        if n > 0:
            ratios[w] = b / n
    s = Signals(
        rate_rps=t[0] / seconds if seconds > 0 else None,
        p50_ms=p50,
        p95_ms=p95,
        p99_ms=p99,
        cold_start_rate=cold,
        error_ratio=ratios,
        requests=reqs,
        latency_capped=capped,
        **rates,
    )
    return replace(s, success_rate=success_rate(s))


def function_of(fid: str, service: str, operation: str, kind: str, source: str) -> Function:
    """The Function a tally row names."""
    try:
        k = Kind(kind)
    except ValueError:
        k = Kind.HTTP
    return Function(id=fid, service=service, operation=operation, kind=k, source=source)
