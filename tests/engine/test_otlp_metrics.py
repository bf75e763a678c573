"""Function health from OpenTelemetry: the real SDK exports metrics (protobuf and JSON) and
spans to the receiver on a free port, with a load whose truth is known, and the fleet
shows what a user would read — success rate, rate, latency bucket, failure modes, burn
rates once the windows fill (and null before), after a restart too."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.sdk.metrics import Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    InMemoryMetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from console.config import OtlpConfig
from console.core.model import FailureMode, Span
from console.core.otlp_metrics import CUMULATIVE, Point, parse_resource_metrics
from console.core.red import BOUNDS_MS
from console.engine.fleet.build import embedded_traces
from console.engine.fleet.refresh import Fleet
from console.engine.otlp.health import HealthStore
from console.engine.otlp.proto_metrics import decode_metrics_request
from console.engine.otlp.receiver import OtlpReceiver
from console.engine.otlp.spanstore import SpanStore
from console.engine.store.sqlite import Store

#: the bounds the OpenTelemetry HTTP instrumentations advise for http.server.request.duration
HTTP_BOUNDS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
PAY = "checkout:POST /pay"


class Clock:
    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "cb.db")
    yield s
    s.close()


@pytest.fixture
async def receiver(store: Store) -> AsyncIterator[tuple[OtlpReceiver, int]]:
    rx = OtlpReceiver(SpanStore(store), port=0)
    _, port = await rx.start()
    yield rx, port
    await rx.stop()


def http_load(meter_provider: MeterProvider, n: int = 2000) -> None:
    """n POST /pay requests: 1% 500, 3% 429, 2% slow (0.6 s), the rest 20 ms and 200."""
    h = meter_provider.get_meter("app").create_histogram(
        "http.server.request.duration", unit="s", explicit_bucket_boundaries_advisory=HTTP_BOUNDS_S
    )
    for i in range(n):
        code = 500 if i % 100 == 0 else 429 if i % 100 in (1, 2, 3) else 200
        h.record(
            0.6 if i % 50 == 7 else 0.02,
            {
                "http.route": "/pay",
                "http.request.method": "POST",
                "http.response.status_code": code,
            },
        )


def export_with_sdk(port: int, load: Callable[[MeterProvider], None], **reader: Any) -> None:
    """Run ``load`` on a MeterProvider whose OTLP/HTTP protobuf exporter points at the receiver."""
    exporter = OTLPMetricExporter(endpoint=f"http://127.0.0.1:{port}/v1/metrics", **reader)
    provider = MeterProvider(
        resource=Resource.create({"service.name": "checkout"}),
        metric_readers=[PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)],
        views=[
            View(instrument_name="lat.exp", aggregation=ExponentialBucketHistogramAggregation())
        ],
    )
    load(provider)
    provider.force_flush()
    provider.shutdown()


async def fleet_of(store: Store, clock: Clock) -> Fleet:
    return Fleet([embedded_traces(store, OtlpConfig(), clock)], clock=clock)


def bucket(ms: float) -> tuple[float, float]:
    i = next(i for i, b in enumerate(BOUNDS_MS) if ms <= b)
    return (BOUNDS_MS[i - 1] if i else 0.0, BOUNDS_MS[i])


# -- decoding ----------------------------------------------------------------------------


def sdk_points(load: Callable[[MeterProvider], None]) -> tuple[bytes, dict[str, Any]]:
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        resource=Resource.create({"service.name": "checkout"}),
        metric_readers=[reader],
        views=[
            View(instrument_name="lat.exp", aggregation=ExponentialBucketHistogramAggregation())
        ],
    )
    load(provider)
    data = reader.get_metrics_data()
    provider.shutdown()
    assert data is not None
    req = encode_metrics(data)
    return req.SerializeToString(), MessageToDict(req)


def every_kind(provider: MeterProvider) -> None:
    m = provider.get_meter("t")
    http_load(provider, 100)
    m.create_counter("faas.invocations").add(7, {"faas.name": "resize"})
    m.create_up_down_counter("queue.depth").add(-3)
    m.create_gauge("temp").set(21.5, {"room": "a"})
    exp = m.create_histogram("lat.exp", unit="ms")
    for v in (0, 1, 3, 100, 600):
        exp.record(v)


def test_the_protobuf_decoder_reads_what_the_sdk_writes_as_its_json_mapping_does() -> None:
    body, as_json = sdk_points(every_kind)
    mine = parse_resource_metrics(decode_metrics_request(body)["resourceMetrics"])
    theirs = parse_resource_metrics(as_json["resourceMetrics"])
    assert mine.rejected == theirs.rejected == 0
    assert len(mine.points) == len(theirs.points) == 7  # 3 status codes × 1 histogram + 4

    def key(p: Point) -> tuple[Any, ...]:
        return (
            p.metric,
            p.shape,
            p.temporality,
            p.monotonic,
            p.value,
            p.counts,
            p.bounds,
            p.scale,
            p.offset,
            p.zero_count,
            dict(p.attributes),
            p.start_ns,
            p.time_ns,
        )

    assert sorted(map(key, mine.points)) == sorted(map(key, theirs.points))
    by = {p.metric: p for p in mine.points}
    assert by["queue.depth"].value == -3 and not by["queue.depth"].monotonic
    assert by["temp"].shape == "gauge" and by["temp"].value == 21.5
    exp = by["lat.exp"]
    assert exp.shape == "exponentialHistogram" and exp.zero_count == 1 and sum(exp.counts) == 4
    h = by["http.server.request.duration"]
    assert h.temporality == CUMULATIVE and h.value == sum(h.counts) and h.bounds[0] == 0.005


# -- the truth of a known load -----------------------------------------------------------


async def test_sdk_protobuf_metrics_give_the_load_s_success_rate_rate_p99_and_throttling(
    receiver: tuple[OtlpReceiver, int], store: Store
) -> None:
    rx, port = receiver
    before = time.time()
    await asyncio.to_thread(export_with_sdk, port, http_load)
    after = time.time()
    assert after - before < 10 and rx.stats.points_rejected == 0
    clock = Clock(after + 240)
    snap = await (await fleet_of(store, clock)).refresh()
    h = next(f for f in snap.functions if f.function.id == PAY)
    s = h.signals
    assert h.function.service == "checkout" and h.function.operation == "POST /pay"
    assert s.success_rate is not None and abs(s.success_rate - 0.99) <= 0.01
    assert s.rate_rps is not None and abs(s.rate_rps - 2000 / 240) / (2000 / 240) <= 0.02
    assert s.throttle_rate == pytest.approx(0.03)
    assert s.p99_ms is not None and bucket(600) == (500.0, 750.0)
    assert 500.0 < s.p99_ms <= 750.0 and s.p50_ms is not None and 10 < s.p50_ms <= 25
    assert FailureMode.F2 in {f.mode for f in h.findings}
    # 4 minutes of data: no window of 5 minutes or more is filled, so no burn rate yet
    assert s.error_ratio == {} and (h.burn is None or not h.burn.rates)


async def test_json_metrics_with_delta_temporality_and_exponential_histograms(
    receiver: tuple[OtlpReceiver, int], store: Store
) -> None:
    _, port = receiver
    delta: dict[type, AggregationTemporality] = {Histogram: AggregationTemporality.DELTA}

    def exp_load(provider: MeterProvider) -> None:
        m = provider.get_meter("app")
        h = m.create_histogram("http.server.duration", unit="ms")  # the old conventions, ms
        for i in range(1000):
            h.record(
                600.0 if i % 50 == 7 else 20.0,
                {
                    "http.route": "/cart",
                    "http.method": "GET",
                    "http.status_code": 503 if i % 10 == 0 else 200,
                },
            )

    # two exports of delta points, as JSON, each the SDK's own data converted
    reader = InMemoryMetricReader(preferred_temporality=delta)
    provider = MeterProvider(
        resource=Resource.create({"service.name": "checkout"}),
        metric_readers=[reader],
        views=[
            View(
                instrument_name="http.server.duration",
                aggregation=ExponentialBucketHistogramAggregation(),
            )
        ],
    )
    async with httpx.AsyncClient() as c:
        for _ in range(2):
            exp_load(provider)
            data = reader.get_metrics_data()
            assert data is not None
            doc = MessageToDict(encode_metrics(data))
            r = await c.post(f"http://127.0.0.1:{port}/v1/metrics", json=doc)
            assert r.status_code == 200 and r.json() == {}
    provider.shutdown()
    sig = (await asyncio.to_thread(HealthStore(store, clock=Clock(time.time() + 60)).signals))[
        "checkout:GET /cart"
    ]
    assert sig.error_5xx_rate == pytest.approx(0.1) and sig.success_rate == pytest.approx(0.9)
    assert sig.p99_ms is not None and 500 < sig.p99_ms <= 750
    assert sig.p50_ms is not None and 10 < sig.p50_ms <= 25


def faas_load(provider: MeterProvider) -> None:
    m = provider.get_meter("lambda")
    attrs = {"faas.name": "resize", "faas.trigger": "http"}
    m.create_counter("faas.invocations").add(1000, attrs)
    m.create_counter("faas.coldstarts").add(100, attrs)
    m.create_counter("faas.errors").add(80, attrs)  # the timeouts are errors too
    m.create_counter("faas.timeouts").add(50, attrs)
    d = m.create_histogram(
        "faas.invoke_duration", unit="s", explicit_bucket_boundaries_advisory=HTTP_BOUNDS_S
    )
    for i in range(1000):
        d.record(2.0 if i % 20 == 0 else 0.08, attrs)


async def test_faas_metrics_feed_cold_starts_f4_and_timeouts_f1(
    receiver: tuple[OtlpReceiver, int], store: Store
) -> None:
    _, port = receiver
    await asyncio.to_thread(export_with_sdk, port, faas_load)
    snap = await (await fleet_of(store, Clock(time.time() + 120))).refresh()
    h = next(f for f in snap.functions if f.function.id == "checkout:resize")
    assert h.function.kind.value == "serverless"
    s = h.signals
    assert s.cold_start_rate == pytest.approx(0.1) and s.timeout_rate == pytest.approx(0.05)
    assert s.error_5xx_rate == pytest.approx(0.03) and s.success_rate == pytest.approx(0.92)
    assert s.p99_ms is not None and 1000 < s.p99_ms <= 2500
    assert {FailureMode.F1, FailureMode.F4} <= {f.mode for f in h.findings}


# -- cumulative streams: differences, resets, restarts -----------------------------------


def counter(value: float, start_ns: int, time_ns: int) -> Point:
    return Point(
        "faas.invocations",
        "",
        "sum",
        CUMULATIVE,
        True,
        {"service.name": "fn"},
        {"faas.name": "f"},
        start_ns,
        time_ns,
        value,
    )


def requests_of(hs: HealthStore) -> float:
    s = hs.signals("1h")["fn:f"]
    assert s.rate_rps is not None
    return s.rate_rps * min(3600.0, hs.clock() - 1_700_000_000.0)


def test_cumulative_points_count_differences_and_a_reset_counts_whole(tmp_path: Path) -> None:
    t0 = 1_700_000_000 * 10**9
    clock = Clock(1_700_000_000.0 + 600)
    hs = HealthStore(Store(":memory:"), clock=clock)
    hs.add_points([counter(100, t0, t0 + 60 * 10**9)])  # first point, recent start: whole
    hs.add_points([counter(150, t0, t0 + 120 * 10**9)])  # +50
    hs.add_points([counter(150, t0, t0 + 120 * 10**9)])  # a retry of the same point: nothing
    hs.add_points([counter(20, t0 + 130 * 10**9, t0 + 180 * 10**9)])  # restarted: +20
    hs.add_points([counter(10, t0 + 130 * 10**9, t0 + 240 * 10**9)])  # went down: a reset, +10
    assert requests_of(hs) == pytest.approx(180)


def test_an_old_cumulative_stream_sets_a_baseline_and_the_state_survives_a_restart(
    tmp_path: Path,
) -> None:
    t0 = 1_700_000_000 * 10**9 - 86400 * 10**9  # the process started a day earlier
    now = Clock(1_700_000_000.0 + 600)
    first = Store(tmp_path / "cb.db")
    hs = HealthStore(first, clock=now)
    assert hs.add_points([counter(50_000, t0, 1_700_000_000 * 10**9)]) == 0  # a day's: baseline
    first.close()
    again = Store(tmp_path / "cb.db")  # the console (and its receiver) restarted
    hs2 = HealthStore(again, clock=now)
    assert hs2.add_points([counter(50_300, t0, (1_700_000_000 + 300) * 10**9)]) == 1
    assert requests_of(hs2) == pytest.approx(300)
    again.close()


# -- spans only ----------------------------------------------------------------------------


async def test_a_traces_only_service_gets_red_from_its_server_spans(
    receiver: tuple[OtlpReceiver, int], store: Store
) -> None:
    _, port = receiver
    now = time.time()
    n = 3000  # 5 per second, steady over the last 10 minutes

    def send() -> None:
        provider = TracerProvider(resource=Resource.create({"service.name": "auth"}))
        provider.add_span_processor(
            BatchSpanProcessor(
                OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces"),
                max_export_batch_size=512,
                max_queue_size=4 * n,
            )
        )
        tracer = provider.get_tracer("t")
        for i in range(n):
            start = int((now - 600 + i * 600 / n) * 1e9)
            code = 401 if i % 20 == 0 else 503 if i % 100 == 1 else 200
            span = tracer.start_span(
                "GET /login",
                kind=SpanKind.SERVER,
                start_time=start,
                attributes={
                    "http.request.method": "GET",
                    "http.route": "/login",
                    "http.response.status_code": code,
                },
            )
            if code >= 500:
                span.set_status(Status(StatusCode.ERROR))
            with tracer.start_as_current_span("db", kind=SpanKind.CLIENT):
                pass  # a client span: not a request of the function
            span.end(end_time=start + (800_000_000 if i % 50 == 25 else 30_000_000))
        provider.force_flush()
        provider.shutdown()

    await asyncio.to_thread(send)
    clock = Clock(now)
    snap = await (await fleet_of(store, clock)).refresh()
    h = next(f for f in snap.functions if f.function.id == "auth:GET /login")
    s = h.signals
    assert s.rate_rps is not None and abs(s.rate_rps - 5.0) / 5.0 <= 0.02
    assert s.auth_error_rate is not None and abs(s.auth_error_rate - 0.05) <= 0.01
    assert s.success_rate is not None and abs(s.success_rate - 0.99) <= 0.01
    assert s.p99_ms is not None and 750 < s.p99_ms <= 1000
    assert FailureMode.F6 in {f.mode for f in h.findings}
    found = await snap_traces(store, "auth")
    assert found, "the service's traces are there too"


async def snap_traces(store: Store, service: str) -> list[Any]:
    from console.core.model import TraceQuery

    return await asyncio.to_thread(SpanStore(store).find_traces, TraceQuery(service, limit=3))


# -- windows ---------------------------------------------------------------------------------


def aged_spans(now: float, minutes: int, per_minute: int, error_every: int) -> list[Span]:
    out = []
    for m in range(minutes):
        for k in range(per_minute):
            end = now - m * 60 - 1 - k * (58 / per_minute)
            code = 500 if (m * per_minute + k) % error_every == 0 else 200
            out.append(
                Span(
                    f"{m:016x}{k:016x}",
                    f"{m:08x}{k:08x}",
                    None,
                    "orders",
                    "POST /order",
                    int((end - 0.05) * 1e9),
                    50_000_000,
                    kind="server",
                    status="error" if code == 500 else "unset",
                    attributes={
                        "http.request.method": "POST",
                        "http.route": "/order",
                        "http.response.status_code": code,
                    },
                )
            )
    return out


async def test_burn_rates_are_null_until_each_window_has_been_seen_then_real(
    store: Store,
) -> None:
    now = 1_800_000_000.0
    clock = Clock(now)
    hs = HealthStore(store, clock=clock)
    hs.add_spans(aged_spans(now, 20, 10, 50))  # 20 minutes of 2% errors
    fleet = await fleet_of(store, clock)
    h = next(f for f in (await fleet.refresh()).functions if f.function.id == "orders:POST /order")
    assert h.signals.error_ratio.keys() == {"5m"}  # 30m, 1h, 6h, 3d: not seen that long
    assert h.signals.error_ratio["5m"] == pytest.approx(0.02, abs=0.003)
    assert h.burn is not None and set(h.burn.rates) == {"5m"} and not h.burn.page

    hs.add_spans(aged_spans(now, 3 * 1440 + 30, 2, 50)[20 * 2 :])  # pre-aged: 3 days more
    clock.now += 61  # the hour-row windows are read again at most once a minute
    h = next(f for f in (await fleet.refresh()).functions if f.function.id == "orders:POST /order")
    assert set(h.signals.error_ratio) == {"5m", "30m", "1h", "6h", "3d"}
    assert h.signals.requests["3d"] == pytest.approx(3 * 1440 * 2 + 20 * 8, rel=0.02)
    for w in ("1h", "6h", "3d"):
        assert h.signals.error_ratio[w] == pytest.approx(0.02, abs=0.003), w
    assert h.burn is not None and h.burn.rates["1h"] == pytest.approx(20, rel=0.15)
    assert h.burn.page and h.burn.budget_remaining is None  # the 30d window is not kept


async def test_windows_survive_a_restart_of_the_console(tmp_path: Path) -> None:
    now = 1_800_000_000.0
    db = tmp_path / "cb.db"
    first = Store(db)
    HealthStore(first, clock=Clock(now)).add_spans(aged_spans(now, 90, 4, 25))
    before = await (await fleet_of(first, Clock(now))).refresh()
    first.close()
    again = Store(db)
    after = await (await fleet_of(again, Clock(now))).refresh()
    b = next(f for f in before.functions if f.function.id == "orders:POST /order")
    a = next(f for f in after.functions if f.function.id == "orders:POST /order")
    assert a.signals == b.signals and a.signals.error_ratio["1h"] == pytest.approx(0.04, abs=0.005)
    again.close()


def test_retention_drops_what_is_older_than_three_days_and_a_bit() -> None:
    now = 1_800_000_000.0
    clock = Clock(now)
    store = Store(":memory:")
    hs = HealthStore(store, clock=clock)
    hs.add_spans(aged_spans(now, 60, 1, 10))
    clock.now = now + 4 * 86400
    hs.prune()
    assert store.query("SELECT COUNT(*) AS n FROM red_tallies")[0]["n"] == 0
    assert hs.functions() == []


# -- the wire ------------------------------------------------------------------------------


async def test_partial_success_names_the_rejected_data_points(
    receiver: tuple[OtlpReceiver, int],
) -> None:
    _, port = receiver
    good = {"timeUnixNano": str(time.time_ns()), "startTimeUnixNano": str(time.time_ns() - 10**9),
            "count": "2", "bucketCounts": ["1", "1"], "explicitBounds": [0.1]}  # fmt: skip
    bad = {**good, "bucketCounts": ["1", "1", "1"]}
    doc = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{
        "name": "http.server.request.duration", "unit": "s",
        "histogram": {"aggregationTemporality": 1, "dataPoints": [good, bad]}}]}]}]}  # fmt: skip
    async with httpx.AsyncClient() as c:
        r = await c.post(f"http://127.0.0.1:{port}/v1/metrics", json=doc)
        assert r.status_code == 200
        assert r.json()["partialSuccess"]["rejectedDataPoints"] == "1"
        assert "3 bucket counts for 1 bounds" in r.json()["partialSuccess"]["errorMessage"]
        _, as_pb = sdk_points(lambda p: http_load(p, 10))
        body = json.dumps(as_pb).encode()
        r = await c.post(
            f"http://127.0.0.1:{port}/v1/metrics",
            content=body,
            headers={"Content-Type": "application/json"},
        )
        assert (r.status_code, r.json()) == (200, {})
        pb, _ = sdk_points(lambda p: http_load(p, 10))
        r = await c.post(
            f"http://127.0.0.1:{port}/v1/metrics",
            content=pb,
            headers={"Content-Type": "application/x-protobuf"},
        )
        resp = ExportMetricsServiceResponse()
        resp.ParseFromString(r.content)
        assert r.status_code == 200 and resp.partial_success.rejected_data_points == 0


def rpc_and_messaging(provider: MeterProvider) -> None:
    m = provider.get_meter("svc")
    rpc = m.create_histogram("rpc.server.duration", unit="ms")  # the older RPC conventions
    msg = m.create_histogram(
        "messaging.process.duration", unit="s", explicit_bucket_boundaries_advisory=HTTP_BOUNDS_S
    )
    for i in range(500):
        rpc.record(
            30.0,
            {"rpc.system": "grpc", "rpc.service": "shop.Cart", "rpc.method": "Add",
             "rpc.grpc.status_code": 8 if i % 10 == 0 else 0},
        )  # fmt: skip
        attrs: dict[str, str] = {"messaging.destination.name": "orders"}
        if i % 25 == 0:
            attrs["error.type"] = "ValueError"
        msg.record(0.2, attrs)


async def test_rpc_and_messaging_metrics_are_functions_of_their_own(
    receiver: tuple[OtlpReceiver, int], store: Store
) -> None:
    _, port = receiver
    await asyncio.to_thread(export_with_sdk, port, rpc_and_messaging)
    hs = HealthStore(store, clock=Clock(time.time() + 60))
    kinds = {f.id: f.kind.value for f in hs.functions()}
    assert kinds == {"checkout:shop.Cart/Add": "rpc", "checkout:orders": "worker"}
    sig = hs.signals()
    rpc, msg = sig["checkout:shop.Cart/Add"], sig["checkout:orders"]
    assert rpc.throttle_rate == pytest.approx(0.1) and rpc.success_rate == pytest.approx(1.0)
    assert rpc.p99_ms is not None and 25 < rpc.p99_ms <= 50  # milliseconds, as the unit says
    assert msg.error_5xx_rate == pytest.approx(0.04) and msg.p50_ms is not None
    assert 150 < msg.p50_ms <= 250  # seconds read as seconds


def test_a_refresh_costs_the_same_queries_whatever_the_number_of_functions() -> None:
    def queries(functions: int) -> tuple[int, int]:
        now = 1_800_000_000.0
        store = Store(":memory:")
        hs = HealthStore(store, clock=Clock(now))
        hs.add_spans(
            [
                Span(f"{f:032x}", f"{f:016x}", None, "svc", "GET", int((now - 30) * 1e9), 10**6,
                     kind="server", attributes={"http.request.method": "GET",
                                                "http.route": f"/r/{f}"})
                for f in range(functions)
            ]
        )  # fmt: skip
        seen: list[str] = []
        real = store.tuples

        def counted(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
            seen.append(sql)
            return real(sql, params)

        store.tuples = counted  # type: ignore[method-assign]
        got = hs.signals("5m")
        store.close()
        return len(seen), len(got)

    assert queries(3) == (4, 3) and queries(300) == (4, 300)


async def test_gzip_from_the_sdk_and_retryable_503s_when_busy_or_the_disk_is_full(
    tmp_path: Path,
) -> None:
    from opentelemetry.exporter.otlp.proto.http import Compression

    from console.engine.otlp.receiver import ReceiverLimits

    store = Store(tmp_path / "gz.db")
    rx = OtlpReceiver(SpanStore(store), port=0)
    _, port = await rx.start()
    try:
        await asyncio.to_thread(
            export_with_sdk, port, lambda p: http_load(p, 100), compression=Compression.Gzip
        )
    finally:
        await rx.stop()
    assert rx.stats.points_accepted == 6 and rx.stats.by_status == {200: 2}
    assert HealthStore(store, clock=Clock(time.time() + 60)).signals()[PAY].rate_rps
    store.close()

    def routes(provider: MeterProvider) -> None:  # 300 points: more than a page holds
        h = provider.get_meter("app").create_histogram("http.server.request.duration", unit="s")
        for r in range(300):
            h.record(0.02, {"http.route": f"/r/{r}", "http.request.method": "GET"})

    body, _ = sdk_points(routes)
    busy = OtlpReceiver(
        SpanStore(Store(":memory:")), port=0, limits=ReceiverLimits(max_pending_spans=100)
    )
    schema = Store(tmp_path / "full.db")
    pages = int(schema.query("PRAGMA page_count")[0][0])
    schema.close()
    full_store = Store(tmp_path / "full.db", max_pages=pages)  # the schema and no room more
    full_store.open()
    full = OtlpReceiver(SpanStore(full_store), port=0)
    answers = []
    for rx in (busy, full):
        await rx.start()
        try:
            async with httpx.AsyncClient() as c:
                answers.append(
                    await c.post(
                        f"http://127.0.0.1:{rx.port}/v1/metrics",
                        content=body,
                        headers={"Content-Type": "application/x-protobuf"},
                    )
                )
        finally:
            await rx.stop()
    full_store.close()
    assert [(r.status_code, r.headers.get("retry-after")) for r in answers] == [
        (503, "1"),
        (503, "1"),
    ]


class Configured:
    """A configured backend (Prometheus-like) that knows the same function."""

    async def aclose(self) -> None:
        return None

    async def functions(self) -> list[Any]:
        from console.core.model import Function, Kind

        return [Function(PAY, "checkout", "POST /pay", kind=Kind.RPC, source="prom")]

    async def signals(self, functions: list[Any], window: str) -> dict[str, Any]:
        from console.core.model import Signals

        return {PAY: Signals(rate_rps=50.0, success_rate=0.5, error_5xx_rate=0.5)}

    async def series(self, *a: Any) -> list[tuple[float, float]]:
        return []


async def test_a_configured_backend_s_view_of_a_function_wins_and_otlp_fills_the_rest(
    store: Store,
) -> None:
    from console.engine.fleet.backend import Backend

    now = 1_800_000_000.0
    clock = Clock(now)
    HealthStore(store, clock=clock).add_spans(
        aged_spans(now, 10, 10, 50)  # orders:POST /order, and PAY below
        + [
            Span(f"{i:032x}", f"{i:016x}", None, "checkout", "POST /pay", int((now - 60 - i) * 1e9),
                 900_000_000, kind="server", attributes={"http.request.method": "POST",
                 "http.route": "/pay", "http.response.status_code": 200})
            for i in range(200)
        ]
    )  # fmt: skip
    otlp = embedded_traces(store, OtlpConfig(), clock)
    fleet = Fleet([otlp, Backend("prom", "prom", Configured())], clock=clock)
    snap = await fleet.refresh()
    pay = next(h for h in snap.functions if h.function.id == PAY)
    assert pay.function.kind.value == "rpc" and pay.function.source == "prom"
    assert pay.signals.success_rate == 0.5 and pay.signals.rate_rps == 50.0
    assert pay.signals.p99_ms is not None and 750 < pay.signals.p99_ms <= 1000  # from OTLP
    assert "orders:POST /order" in {h.function.id for h in snap.functions}


async def test_the_function_screen_s_history_comes_from_the_minute_tallies(store: Store) -> None:
    now = 1_800_000_000.0
    clock = Clock(now)
    HealthStore(store, clock=clock).add_spans(aged_spans(now, 60, 10, 50))  # 10/min, 2% errors
    plugin = embedded_traces(store, OtlpConfig(), clock).plugin
    from console.core.model import Function
    from console.plugin_api import Metrics

    assert isinstance(plugin, Metrics)
    fn = Function("orders:POST /order", "orders", "POST /order")
    rate = await plugin.series(fn, "rate_rps", now - 1800, now, 300)
    err = await plugin.series(fn, "error_rate", now - 1800, now, 300)
    assert [t for t, _ in rate] == [now - 1800 + i * 300 for i in range(7)]
    assert all(v == pytest.approx(10 / 60, rel=0.05) for _, v in rate)
    assert sum(v for _, v in err) / len(err) == pytest.approx(0.02, abs=0.005)
    assert await plugin.series(fn, "no_such_signal", now - 1800, now, 300) == []
    assert await plugin.series(fn, "rate_rps", now - 7 * 86400, now - 6 * 86400, 300) == []


async def test_one_function_s_health_read_on_its_own_is_the_refresh_s(store: Store) -> None:
    now = 1_800_000_000.0
    clock = Clock(now)
    hs = HealthStore(store, clock=clock)
    hs.add_spans(aged_spans(now, 90, 4, 25))
    hs.add_spans(
        [
            Span(f"{i:032x}", f"{i:016x}", None, "other", "GET", int((now - 30 - i) * 1e9),
                 10**6, kind="server", attributes={"http.request.method": "GET"})
            for i in range(50)
        ]
    )  # fmt: skip
    fleet = await fleet_of(store, clock)
    snap = await fleet.refresh()
    alone = await fleet.read_function("orders:POST /order")
    whole = next(h for h in snap.functions if h.function.id == "orders:POST /order")
    assert alone is not None and alone.signals == whole.signals
    assert alone.signals.error_ratio["1h"] == pytest.approx(0.04, abs=0.005)


async def test_with_the_receiver_off_its_old_tallies_are_not_the_fleet_s(store: Store) -> None:
    now = 1_800_000_000.0
    clock = Clock(now)
    HealthStore(store, clock=clock).add_spans(aged_spans(now, 5, 4, 25))
    on = await Fleet([embedded_traces(store, OtlpConfig(), clock)], clock=clock).refresh()
    off = await Fleet(
        [embedded_traces(store, OtlpConfig(enabled=False), clock)], clock=clock
    ).refresh()
    assert [h.function.id for h in on.functions] == ["orders:POST /order"]
    assert off.functions == ()
