"""Grouped status classes ("4xx") and bucket-capped quantiles (issue 12, item 1).

prometheus-fastapi-instrumentator reports ``status="2xx"/"4xx"/"5xx"`` by default and its
latency histogram's buckets are 0.1, 0.5, 1 and +Inf. Payload shapes are the plugin's
canonical rows, as the real Prometheus returns them (tests/integration covers the real thing).
"""

from __future__ import annotations

import httpx
from callboard_prometheus import PrometheusPlugin, parse, plan, queries

from console.core import fmt
from console.core.diagnose import diagnose
from console.core.model import FailureMode, Function, Signals
from console.core.thresholds import Thresholds
from console.plugin_api import PluginContext

FN = Function(id="shop:GET /orders", service="shop", operation="GET /orders")


def row(code: str, value: str, **extra: str) -> dict:
    metric = {"cb_service": "shop", "cb_route": "/orders", "cb_method": "GET", **extra}
    if code:
        metric["cb_code"] = code
    return {"metric": metric, "value": [1.7e9, value]}


def signals(
    req: list[dict], lat: list[dict] | None = None, tops: dict[str, float | None] | None = None
) -> Signals:
    rows, _ = parse.vector_rows(req)
    lrows, _ = parse.vector_rows(lat or [])
    counts = parse.count_rows(rows)
    known = {k: v for k, v in (tops or {}).items() if v is not None}
    out = parse.build_signals([FN.id], counts, parse.latency_rows(lrows, "s", known), {}, ())
    return out[FN.id]


def test_grouped_4xx_is_an_unclassified_client_error_not_a_serialization_error() -> None:
    # 6 rps OK, 3 rps 4xx (the truth was 401s and 429s), 1 rps 5xx
    s = signals([row("2xx", "6"), row("4xx", "3"), row("5xx", "1")])
    assert s.rate_rps == 10.0
    assert s.error_5xx_rate == 0.1
    assert s.success_rate == 0.9  # 4xx never count, 5xx does
    # what the grouped label hides is unknown, never 0 and never "serialization"
    assert s.serialization_error_rate is None
    assert s.auth_error_rate is None and s.throttle_rate is None and s.timeout_rate is None
    modes = {f.mode for f in diagnose(FN, s, None, Thresholds())}
    assert FailureMode.F8 not in modes and FailureMode.F6 not in modes
    assert FailureMode.F2 not in modes


def test_grouped_classes_without_4xx_traffic_know_there_were_none() -> None:
    s = signals([row("2xx", "5"), row("4xx", "0")])
    assert s.auth_error_rate == 0.0 and s.throttle_rate == 0.0
    assert s.serialization_error_rate == 0.0 and s.success_rate == 1.0


def test_concrete_codes_still_classify() -> None:
    s = signals([row("200", "6"), row("400", "2"), row("401", "2")])
    assert s.serialization_error_rate == 0.2 and s.auth_error_rate == 0.2


def test_code_class_reads_grouped_labels() -> None:
    assert parse.code_class("4xx") == "client"
    assert parse.code_class("5XX") == "5xx"
    assert parse.code_class("2xx") == "ok"


async def test_backend_warns_that_the_exporter_groups_codes() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        q = request.content.decode()
        result = [row("2xx", "6"), row("4xx", "3")] if "cb_code" in q else []
        return httpx.Response(
            200, json={"status": "success", "data": {"resultType": "vector", "result": result}}
        )

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    ctx = PluginContext(http=http, secret=lambda n: n, clock=lambda: 1.7e9)
    p = PrometheusPlugin("prom", {"url": "http://prom.test", "burn_windows": False}, ctx)
    out = await p.signals([FN], "5m")
    await http.aclose()
    assert out[FN.id].serialization_error_rate is None
    assert any("groups status codes" in w and "shop" in w for w in p.warnings)


def test_p99_at_the_highest_finite_bucket_is_a_lower_bound() -> None:
    # buckets 0.1, 0.5, 1, +Inf: histogram_quantile answers 1 (s) for a p99 beyond 1 s;
    # p50 and p95 fall inside finite buckets and are estimates as usual.
    lat = [
        row("", "0.05", cb_q="0.5", cb_p="0"),
        row("", "0.9", cb_q="0.95", cb_p="0"),
        row("", "1", cb_q="0.99", cb_p="0"),
    ]
    s = signals([row("200", "10")], lat, tops={"0": parse.top_bucket(["0.1", "0.5", "1", "+Inf"])})
    assert s.p99_ms == 1000.0
    assert s.latency_capped == ("p99_ms",)
    assert fmt.latency(s.p99_ms, "p99_ms" in s.latency_capped) == "≥ 1.00s"
    assert fmt.latency(s.p50_ms, "p50_ms" in s.latency_capped) == "50.0ms"


def test_p99_inside_the_buckets_is_not_capped() -> None:
    lat = [row("", "0.4", cb_q="0.99", cb_p="0")]
    s = signals([row("200", "10")], lat, tops={"0": 1.0})
    assert s.p99_ms == 400.0 and s.latency_capped == ()


def test_unknown_buckets_flag_nothing() -> None:
    s = signals([row("200", "10")], [row("", "1", cb_q="0.99", cb_p="0")])
    assert s.p99_ms == 1000.0 and s.latency_capped == ()
    assert parse.top_bucket(["+Inf"]) is None and parse.top_bucket(None) is None


def test_capped_p99_says_so_in_the_timeout_evidence() -> None:
    s = Signals(rate_rps=10.0, p99_ms=1000.0, timeout_rate=0.2, latency_capped=("p99_ms",))
    f1 = [f for f in diagnose(FN, s, None, Thresholds()) if f.mode is FailureMode.F1]
    assert f1 and "p99 ≥ 1,000 ms" in f1[0].evidence and "highest bucket" in f1[0].evidence


def test_latency_rows_say_which_preset_they_come_from() -> None:
    preset = queries.build_preset({"preset": "prometheus-client"})
    q = plan.latencies([preset, preset], "1m")
    assert q is not None and 'cb_p", "0"' in q and 'cb_p", "1"' in q
    assert queries.bucket_selector(preset) == "http_request_duration_seconds_bucket"
