"""Convention discovery and scrape intervals from Prometheus itself (issue 12, items 3-4).

Payload shapes are those of Prometheus 2.42 (``/api/v1/status/config`` returns the loaded
config as YAML text in ``data.yaml``); tests/integration runs the real thing.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest
from callboard_prometheus import PrometheusPlugin, conventions, discovery

from console.core.model import Function
from console.errors import ConfigError
from console.plugin_api import PluginContext

CONFIG_YAML = """global:
  scrape_interval: 15s
  scrape_timeout: 10s
scrape_configs:
- job_name: fastapi
  scrape_interval: 2s
  static_configs:
  - targets: [127.0.0.1:1]
- job_name: flask
  static_configs:
  - targets: [127.0.0.1:2]
- job_name: node
  scrape_interval: 1m30s
"""


def vector(rows: list[tuple[dict, str]]) -> httpx.Response:
    result = [{"metric": m, "value": [1.7e9, v]} for m, v in rows]
    return httpx.Response(
        200, json={"status": "success", "data": {"resultType": "vector", "result": result}}
    )


class FakeProm:
    """Answers like Prometheus for two jobs of two conventions; records every request."""

    def __init__(self, config_status: int = 200) -> None:
        self.seen: list[tuple[str, str]] = []
        self.config_status = config_status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/status/config":
            self.seen.append(("config", ""))
            if self.config_status != 200:
                return httpx.Response(self.config_status, text="404 page not found")
            return httpx.Response(200, json={"status": "success", "data": {"yaml": CONFIG_YAML}})
        if request.url.path == "/api/v1/label/le/values":
            self.seen.append(("le", request.url.params["match[]"]))
            return httpx.Response(200, json={"status": "success", "data": ["0.5", "1", "+Inf"]})
        q = parse_qs(request.content.decode())["query"][0]
        self.seen.append(("query", q))
        if q.startswith("count by (job, __name__)"):
            return vector(
                [
                    ({"job": "fastapi", "__name__": "http_requests_total"}, "9"),
                    (
                        {"job": "flask", "__name__": "flask_http_request_duration_seconds_count"},
                        "3",
                    ),
                    ({"job": "flask", "__name__": "http_requests_total"}, "1"),
                ]
            )
        return vector([])


def plugin(handler: FakeProm, opts: dict | None = None) -> PrometheusPlugin:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    ctx = PluginContext(http=http, secret=lambda n: n, clock=lambda: 1.7e9)
    return PrometheusPlugin("prom", {"url": "http://prom.test", **(opts or {})}, ctx)


def test_scrape_intervals_global_and_per_job() -> None:
    payload = {"status": "success", "data": {"yaml": CONFIG_YAML}}
    default, jobs = discovery.scrape_intervals(payload)
    assert default == 15.0
    assert jobs == {"fastapi": 2.0, "flask": 15.0, "node": 90.0}


@pytest.mark.parametrize(
    "payload", [None, {}, {"data": {"yaml": "{{{"}}, {"data": {"yaml": "[1]"}}, {"data": 3}]
)
def test_unreadable_config_is_no_interval_not_a_crash(payload: object) -> None:
    assert discovery.scrape_intervals(payload) == (None, {})


def test_each_job_gets_the_first_matching_convention() -> None:
    picked = conventions.pick(
        [
            ("a", "http_server_request_duration_seconds_count"),
            ("a", "http_requests_total"),  # also exposed: OTel wins, it comes first
            ("b", "http_server_duration_milliseconds_count"),
            ("c", "http_server_requests_seconds_count"),
            ("d", "starlette_requests_total"),
            ("e", "process_cpu_seconds_total"),
        ]
    )
    assert {j: c.name for j, c in picked.items()} == {
        "a": "otel-http",
        "b": "otel-http-old",
        "c": "micrometer",
        "d": "starlette-exporter",
    }


async def test_url_only_discovers_conventions_per_job_and_the_rate_window() -> None:
    prom = FakeProm()
    p = plugin(prom)
    fn = Function(id="fastapi:GET /x", service="fastapi", operation="GET /x")
    await p.signals([fn], "5m")
    found = p.found
    assert found is not None
    assert found.by_convention() == {
        "prometheus-flask-exporter": ["flask"],
        "prometheus-client": ["fastapi"],
    }
    # 4 × the longest scrape interval of the matched jobs (flask: the global 15s)
    assert p.rate_window_s == 60.0 and p.scrape_s == 15.0
    queries = [q for kind, q in prom.seen if kind == "query"]
    refresh = queries[1:]  # after the discovery query: requests, latency, burn windows
    assert len(refresh) == 3
    req = refresh[0]
    assert 'flask_http_request_duration_seconds_count{job=~"flask"}' in req
    assert 'http_requests_total{job=~"fastapi"}' in req and " or " in req
    assert "[1m]" in req


async def test_discovery_is_cached_not_sent_every_refresh() -> None:
    prom = FakeProm()
    p = plugin(prom)
    await p.functions()
    await p.signals([], "5m")
    await p.functions()
    assert sum(1 for kind, _ in prom.seen if kind == "config") == 1
    # each convention's histogram buckets, read once with the inventory call
    les = sorted(sel for kind, sel in prom.seen if kind == "le")
    assert les == [
        'flask_http_request_duration_seconds_bucket{job=~"flask"}',
        'http_request_duration_seconds_bucket{job=~"fastapi"}',
    ]


async def test_a_pinned_preset_and_interval_send_no_discovery() -> None:
    prom = FakeProm()
    p = plugin(prom, {"preset": "prometheus-client", "scrape_interval": "15s"})
    await p.signals([], "5m")
    assert all(not q.startswith("count by (job") for _, q in prom.seen)
    assert ("config", "") not in prom.seen


async def test_no_status_config_falls_back_with_a_warning() -> None:
    prom = FakeProm(config_status=404)
    p = plugin(prom)
    await p.signals([], "5m")
    assert p.scrape_s == 15.0 and p.rate_window_s is None
    assert any("scrape interval not read" in w for w in p.warnings)


async def test_pinned_conventions_restrict_each_to_its_jobs() -> None:
    prom = FakeProm()
    opts = {
        "conventions": [
            {"preset": "otel-http-old", "jobs": ["shop"]},
            {"preset": "prometheus-fastapi-instrumentator", "jobs": ["api", "web"]},
        ],
        "scrape_interval": "5s",
    }
    p = plugin(prom, opts)
    await p.signals([], "5m")
    q = next(q for _, q in prom.seen)
    assert 'http_server_duration_milliseconds_count{job=~"shop"}' in q
    assert 'http_requests_total{job=~"api|web"}' in q


@pytest.mark.parametrize(
    "value", [[], "x", [{"preset": "otel-http"}], [{"preset": "nope", "jobs": ["a"]}], [3]]
)
def test_bad_conventions_are_config_errors(value: object) -> None:
    with pytest.raises(ConfigError):
        plugin(FakeProm(), {"conventions": value})


def test_pinned_config_names_what_was_found() -> None:
    d = discovery.Discovery(
        {"a": conventions.BY_NAME["otel-http"], "b": conventions.BY_NAME["otel-http-old"]},
        {"a": 1.0, "b": 2.0},
        15.0,
    )
    cfg = discovery.pinned(d, "prom", "http://p:9090")
    assert cfg["conventions"] == [
        {"preset": "otel-http", "jobs": ["a"]},
        {"preset": "otel-http-old", "jobs": ["b"]},
    ]
    assert cfg["scrape_interval"] == "2s" and cfg["rate_window"] == "1m"


async def test_jobs_whose_buckets_end_elsewhere_are_compared_with_their_own() -> None:
    """fastapi-instrumentator's buckets end at 1 s, prometheus_client's at 10 s: both are
    the prometheus-client convention, yet a p99 of 1 s is capped only for the first."""

    class TwoLayouts(FakeProm):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            if request.url.path == "/api/v1/label/le/values":
                sel = request.url.params["match[]"]
                self.seen.append(("le", sel))
                les = ["0.1", "1", "+Inf"] if "fastapi" in sel else ["1", "10", "+Inf"]
                return httpx.Response(200, json={"status": "success", "data": les})
            return super().__call__(request)

    prom = TwoLayouts()
    p = plugin(prom, {"conventions": [{"preset": "prometheus-client", "jobs": ["a", "fastapi"]}]})
    await p.functions()
    assert [pr.jobs for pr in p.presets] == [("a",), ("fastapi",)]
    assert p._tops == {"0": 10.0, "1": 1.0}


def test_discover_prints_jobs_window_and_the_pinning_config(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from console.commands.discover import render

    d = discovery.Discovery({"api": conventions.BY_NAME["otel-http"]}, {"api": 15.0}, 15.0)
    render(
        {
            "backend": "prom",
            "url": "http://user:hunter2@prom:9090",  # a password in the URL is never shown
            "jobs": {
                "api": {"convention": "otel-http", "library": "OTel", "scrape_interval_s": 15.0}
            },
            "scrape_interval_s": 15.0,
            "rate_window_s": 60.0,
            "functions": 4,
            "warnings": ["api: the exporter groups status codes"],
            "config": discovery.pinned(d, "prom", "http://prom:9090"),
        }
    )
    out = capsys.readouterr().out
    assert "job api: otel-http (OTel), scraped every 15s" in out
    assert "rate window 60s, 4 function(s)" in out and "warning: api: the exporter" in out
    assert "preset: otel-http" in out and "rate_window: 1m" in out
    assert "hunter2" not in out
