"""Every way Prometheus can fail becomes a typed error with a clear message (MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qs

import httpx
import pytest
from callboard_prometheus import PrometheusPlugin

from console.core.model import Function
from console.engine.fleet.refresh import Backend, Fleet
from console.errors import BackendAuthError, BackendUnavailable, BadResponse, ConfigError
from console.plugin_api import PluginContext

URL = "http://prom.test"
FN = Function(id="checkout:POST /pay", service="checkout", operation="POST /pay")
OK_ROW = {
    "metric": {"cb_service": "checkout", "cb_route": "/pay", "cb_method": "POST", "cb_code": "200"},
    "value": [1.7e9, "2"],
}


def ok(result: list, warnings: list[str] | None = None) -> httpx.Response:
    body: dict = {"status": "success", "data": {"resultType": "vector", "result": result}}
    if warnings:
        body["warnings"] = warnings
    return httpx.Response(200, json=body)


def plugin(
    handler: Callable[[httpx.Request], httpx.Response],
    opts: dict | None = None,
    secrets: dict | None = None,
) -> PrometheusPlugin:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    ctx = PluginContext(http=http, secret=lambda n: (secrets or {})[n], clock=lambda: 1.7e9)
    # pinned, so no discovery requests (tests/plugins/test_prometheus_discovery.py covers those)
    pinned = {"preset": "otel-http", "scrape_interval": "15s"}
    return PrometheusPlugin("prom", {"url": URL, **pinned, **(opts or {})}, ctx)


@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        (
            httpx.Response(503, text="Service Unavailable", headers={"content-type": "text/plain"}),
            BackendUnavailable,
            "not ready",
        ),
        (
            httpx.Response(
                503, json={"status": "error", "errorType": "timeout", "error": "query timed out"}
            ),
            BackendUnavailable,
            "query timed out",
        ),
        (httpx.Response(502, text="bad gateway"), BackendUnavailable, "HTTP 502"),
        (httpx.Response(429, text="slow down"), BackendUnavailable, "HTTP 429"),
        (httpx.Response(401, text="no"), BackendAuthError, "credentials"),
        (httpx.Response(403, text="no"), BackendAuthError, "credentials"),
        (
            httpx.Response(
                400,
                json={
                    "status": "error",
                    "errorType": "bad_data",
                    "error": 'invalid parameter "query": parse error',
                },
            ),
            BadResponse,
            "parse error",
        ),
        (
            httpx.Response(
                422,
                json={
                    "status": "error",
                    "errorType": "execution",
                    "error": "many-to-many matching",
                },
            ),
            BadResponse,
            "many-to-many",
        ),
        (httpx.Response(404, text="404 page not found"), BadResponse, "HTTP 404"),
        (httpx.Response(200, text="{not json"), BadResponse, "not JSON"),
        (httpx.Response(200, text="<html>login</html>"), BadResponse, "not JSON"),
        (
            httpx.Response(
                200,
                json={"status": "success", "data": {"resultType": "scalar", "result": [1, "1"]}},
            ),
            BadResponse,
            "resultType",
        ),
        (httpx.Response(200, json=[1, 2]), BadResponse, "envelope"),
    ],
)
async def test_http_faults_are_typed(response: httpx.Response, error: type, message: str) -> None:
    p = plugin(lambda r: response)
    with pytest.raises(error, match=message):
        await p.signals([FN], "5m")
    status = await p.check()
    assert not status.ok and status.error


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (httpx.ConnectError("All connection attempts failed"), "cannot connect"),
        (httpx.ReadTimeout("read timed out"), "timed out"),
        (httpx.RemoteProtocolError("peer closed connection"), "peer closed"),
    ],
)
async def test_transport_faults_are_unavailable(exc: Exception, message: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    with pytest.raises(BackendUnavailable, match=message):
        await plugin(handler).signals([FN], "5m")


async def test_empty_result_is_no_data_not_zero() -> None:
    signals = await plugin(lambda r: ok([])).signals([FN], "5m")
    assert signals == {}
    assert await plugin(lambda r: ok([])).functions() == []


async def test_huge_body_is_refused() -> None:
    p = plugin(lambda r: httpx.Response(200, content=b" " * 1000))
    p.http.max_bytes = 100
    with pytest.raises(BadResponse, match="too large"):
        await p.signals([FN], "5m")


async def test_warnings_are_kept_and_reset() -> None:
    answers = [ok([OK_ROW], ["partial response: store-2 down"])] * 3
    p = plugin(lambda r: answers.pop() if answers else ok([OK_ROW]))
    await p.signals([FN], "5m")
    assert p.warnings == ("partial response: store-2 down",)
    await p.signals([FN], "5m")
    assert p.warnings == ()


@pytest.mark.parametrize("warnings", [7, "abc", {"w": 1}, [3, "real warning", None]])
async def test_malformed_warnings_are_ignored_not_a_crash_or_one_per_letter(
    warnings: object,
) -> None:
    body = {"status": "success", "data": {"resultType": "vector", "result": [OK_ROW]}}
    p = plugin(lambda r: httpx.Response(200, json={**body, "warnings": warnings}))
    out = await p.signals([FN], "5m")
    assert out["checkout:POST /pay"].rate_rps == 2.0
    assert p.warnings == (("real warning",) if isinstance(warnings, list) else ())


async def test_check_never_raises_even_on_a_surprise() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("transport plugin bug")

    status = await plugin(handler).check()
    assert not status.ok
    assert status.error == "RuntimeError: transport plugin bug"


@pytest.mark.parametrize(
    ("opts", "secrets", "key"),
    [
        ({"headers": {"X-Scope-OrgID": "tenänt-ß"}}, None, "X-Scope-OrgID"),
        ({"headers": {"X-Scope-OrgID": "a\r\nX-Evil: 1"}}, None, "X-Scope-OrgID"),
        ({"auth": {"bearer": {"secret": "tok"}}}, {"tok": "s3cr3t\n"}, "auth.bearer"),
        ({"auth": {"bearer": "tökén-s3cr3t"}}, None, "auth.bearer"),
    ],
)
def test_bad_header_values_are_config_errors_naming_the_key_not_the_value(
    opts: dict, secrets: dict | None, key: str
) -> None:
    with pytest.raises(ConfigError) as exc:
        plugin(lambda r: ok([]), opts, secrets=secrets)
    assert key in str(exc.value)
    assert "s3cr3t" not in str(exc.value) and "tenänt" not in str(exc.value)
    assert "X-Evil" not in str(exc.value)


async def test_queries_are_post_form_with_auth_and_tenant_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok([OK_ROW])

    opts = {
        "auth": {"bearer": {"secret": "prom-token"}},
        "headers": {"X-Scope-OrgID": "team-a"},
        "query_timeout": "10s",
    }
    p = plugin(handler, opts, secrets={"prom-token": "s3cr3t"})
    out = await p.signals([FN], "5m")
    assert out["checkout:POST /pay"].rate_rps == 2.0
    assert len(seen) == 3
    for r in seen:
        assert r.method == "POST" and r.url.path == "/api/v1/query"
        assert r.headers["content-type"] == "application/x-www-form-urlencoded"
        assert r.headers["authorization"] == "Bearer s3cr3t"
        assert r.headers["x-scope-orgid"] == "team-a"
        form = parse_qs(r.content.decode())
        assert form["timeout"] == ["10s"] and "sum by (" in form["query"][0]


async def test_basic_auth_and_range_at_least_four_scrapes() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ok([])

    p = plugin(
        handler, {"auth": {"basic": {"username": "u", "password": "p"}}, "scrape_interval": "2m"}
    )
    await p.signals([FN], "5m")
    assert seen[0].headers["authorization"].startswith("Basic ")
    assert "[8m]" in parse_qs(seen[0].content.decode())["query"][0]  # max(5m, 4 × 2m)


@pytest.mark.parametrize(
    "opts",
    [
        {"url": "ftp://x"},
        {"url": None},
        {"auth": {"digest": "x"}},
        {"auth": {"bearer": ""}},
        {"scrape_interval": "soon"},
        {"burn_windows": "false"},
        {"discover": "false"},
        {"discover": 0},
        {"tls_verify": "false"},
    ],
)
def test_bad_options_are_config_errors(opts: dict) -> None:
    with pytest.raises(ConfigError):
        plugin(lambda r: ok([]), opts)


async def test_discover_false_really_turns_discovery_off() -> None:
    seen: list[httpx.Request] = []

    def handler(r: httpx.Request) -> httpx.Response:
        seen.append(r)
        return ok([OK_ROW])

    p = plugin(handler, {"discover": False})
    assert await p.functions() == [] and seen == []


async def test_series_query_range_and_step_guard() -> None:
    seen: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(parse_qs(request.content.decode()))
        body = {
            "status": "success",
            "data": {
                "resultType": "matrix",
                "result": [
                    {"metric": {}, "values": [[1.0, "0.5"], [2.0, "NaN"], [3.0, "0.25"], "junk"]}
                ],
            },
        }
        return httpx.Response(200, json=body)

    p = plugin(handler)
    pts = await p.series(FN, "error_rate", 0.0, 1_000_000.0, 1.0)
    assert pts == [(1.0, 0.5), (3.0, 0.25)]
    assert float(seen[0]["step"][0]) >= 1_000_000 / 11_000
    assert await p.series(FN, "cpu", 0.0, 10.0, 1.0) == []


async def test_fleet_keeps_stale_data_and_reports_the_error() -> None:
    state = {"up": True}

    def handler(request: httpx.Request) -> httpx.Response:
        if state["up"]:
            return ok([OK_ROW])
        return httpx.Response(
            503, text="Service Unavailable", headers={"content-type": "text/plain"}
        )

    now = [1000.0]
    fleet = Fleet(
        [Backend("prom", "prometheus", plugin(handler))], clock=lambda: now[0], attempts=1
    )
    first = await fleet.refresh()
    assert first.functions[0].signals.rate_rps == 2.0
    state["up"] = False
    now[0] += 30
    second = await fleet.refresh()
    b = second.backends[0]
    assert not b.ok and "not ready" in (b.error or "") and b.stale_s == 30.0
    assert second.functions[0].signals.rate_rps == 2.0  # last good data, marked stale
    assert json.dumps(b.error)
