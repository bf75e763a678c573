"""RED from OpenTelemetry data, the pure part: the naming rule (the same id the
Prometheus plugin and a catalog give), response classes, and histograms rebucketed so a
quantile lands where it lands on the sender's side."""

from __future__ import annotations

import math
import random

import pytest

from console.core import red
from console.core.model import Kind, Span

RES = {"service.name": "checkout"}


def test_an_http_function_is_named_as_the_prometheus_plugin_names_it() -> None:
    attrs = {"http.request.method": "POST", "http.route": "/pay"}
    who = red.identity("http", attrs, RES)
    assert who == ("checkout", "POST /pay", Kind.HTTP)
    from callboard_prometheus.parse import function_id as prometheus_function_id
    from callboard_prometheus.queries import ROLE_LABELS

    labels = {"service": "checkout", "route": "/pay", "method": "POST"}
    prom = prometheus_function_id({ROLE_LABELS[k]: v for k, v in labels.items()})
    assert f"{who[0]}:{who[1]}" == prom == "checkout:POST /pay"
    old = red.identity("http", {"http.method": "GET"}, RES)  # older conventions, no route
    assert old == ("checkout", "GET", Kind.HTTP)


@pytest.mark.parametrize(
    ("attrs", "name", "kind", "want"),
    [
        ({"rpc.system": "grpc", "rpc.service": "shop.Cart", "rpc.method": "Add"}, "x", "server",
         ("checkout", "shop.Cart/Add", Kind.RPC)),
        ({"messaging.system": "kafka", "messaging.destination.name": "orders"}, "process orders",
         "consumer", ("checkout", "orders", Kind.WORKER)),
        ({"faas.trigger": "http", "faas.coldstart": True, "http.request.method": "GET"}, "h",
         "server", ("checkout", "h", Kind.SERVERLESS)),
        ({"faas.name": "resize", "faas.trigger": "pubsub"}, "h", "server",
         ("checkout", "resize", Kind.SERVERLESS)),
        ({}, "GET /health", "server", ("checkout", "GET /health", Kind.HTTP)),
    ],
)  # fmt: skip
def test_spans_are_named_by_what_they_carry(
    attrs: dict[str, object], name: str, kind: str, want: tuple[str, str, Kind]
) -> None:
    span = Span("a" * 32, "b" * 16, None, "checkout", name, 0, 10**6, kind=kind, attributes=attrs)
    found = red.span_tally(span)
    assert found is not None and found[0] == want


def test_client_and_internal_spans_are_not_requests_of_a_function() -> None:
    for kind in ("client", "internal", "producer"):
        assert red.span_tally(Span("a" * 32, "b" * 16, None, "s", "n", 0, 1, kind=kind)) is None


@pytest.mark.parametrize(
    ("family", "attrs", "status", "want"),
    [
        ("http", {"http.response.status_code": 429}, "", "throttle"),
        ("http", {"http.status_code": 403}, "", "auth"),
        ("http", {"http.response.status_code": 504}, "", "timeout"),
        ("http", {"http.response.status_code": 503}, "", "5xx"),
        ("http", {"error.type": "TimeoutError"}, "", "timeout"),
        ("http", {"error.type": "ConnectionReset"}, "", "5xx"),
        ("http", {}, "", None),  # a metric point with nothing to say: unknown, not ok
        ("http", {}, "error", "5xx"),
        ("http", {}, "unset", "ok"),
        ("rpc", {"rpc.grpc.status_code": 4}, "", "timeout"),
        ("rpc", {"rpc.grpc.status_code": 8}, "", "throttle"),
        ("rpc", {"rpc.grpc.status_code": 16}, "", "auth"),
        ("rpc", {"rpc.grpc.status_code": 14}, "", "5xx"),
        ("rpc", {"rpc.response.status_code": "OK"}, "", "ok"),
    ],
)
def test_response_classes(family: str, attrs: dict[str, object], status: str, want: str) -> None:
    assert red.response_class(family, attrs, status) == want


def test_an_sdk_default_histogram_is_stored_without_loss() -> None:
    sdk_ms = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000]
    counts = [0, 3, 0, 5, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 1]
    hist = [0.0] * red.NB
    red.explicit_histogram([b / 1000 for b in sdk_ms], counts, 1000.0, hist)
    assert sum(hist) == sum(counts)
    for lo, hi, c in zip([-math.inf, *sdk_ms], [*sdk_ms, math.inf], counts, strict=True):
        inside = sum(
            h for i, h in enumerate(hist)
            if (red.BOUNDS_MS[i - 1] if i else 0.0) >= max(lo, 0.0)
            and (red.BOUNDS_MS[i] if i < len(red.BOUNDS_MS) else math.inf) <= hi
        )  # fmt: skip
        assert inside >= c - 1e-9, (lo, hi)


@pytest.mark.parametrize("q", [0.5, 0.9, 0.95, 0.99])
def test_quantiles_of_an_exponential_histogram_land_in_the_right_bucket(q: float) -> None:
    rnd = random.Random(q)
    values = [rnd.lognormvariate(3.5, 1.2) for _ in range(5000)]  # ms, 3 ms … 2 s
    scale = 3
    base = 2 ** (2**-scale)
    index = [math.ceil(math.log(v, base)) - 1 for v in values]
    offset = min(index)
    counts = [0.0] * (max(index) - offset + 1)
    for i in index:
        counts[i - offset] += 1
    hist = [0.0] * red.NB
    red.exponential_histogram(scale, 0, offset, counts, 0, 1.0, hist)
    got, capped = red.quantile(hist, q)
    truth = sorted(values)[math.ceil(q * len(values)) - 1]
    assert got is not None and not capped
    assert red.bucket_of(got) == red.bucket_of(truth) or abs(got - truth) / truth < 0.1


def test_a_quantile_beyond_the_last_bound_is_a_lower_bound_and_empty_is_none() -> None:
    hist = [0.0] * red.NB
    hist[-1] = 10
    assert red.quantile(hist, 0.99) == (red.BOUNDS_MS[-1], True)
    assert red.quantile([0.0] * red.NB, 0.5) == (None, False)


def test_signals_say_nothing_they_do_not_know() -> None:
    t = red.new_tally()
    red.count_class(t, None, 10)  # ten requests of unknown class
    s = red.signals_of(t, 60.0, None, {"5m": None})
    assert s.rate_rps == pytest.approx(10 / 60)
    assert s.error_5xx_rate is None and s.success_rate is None and s.p99_ms is None
    assert s.error_ratio == {} and s.cold_start_rate is None
