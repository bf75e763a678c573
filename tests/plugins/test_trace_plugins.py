"""The trace plugins against httpx.MockTransport: endpoints, params, fallbacks and errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from callboard_jaeger import JaegerPlugin
from callboard_otlp import OtlpPlugin
from callboard_tempo import TempoPlugin
from callboard_zipkin import ZipkinPlugin

from console.core.model import Span, TraceQuery
from console.engine.otlp.spanstore import SpanStore
from console.engine.store.sqlite import Store
from console.errors import BackendAuthError, BackendUnavailable, BadResponse
from console.plugin_api import PluginContext, Traces
from tests.tempo_payloads import TEMPO_RESOURCE, TEMPO_SPANS, TEMPO_TID

NOW = 1_700_000_000.0
Handler = Callable[[httpx.Request], httpx.Response]


def make(cls: Any, handler: Handler, **options: Any) -> tuple[Any, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return handler(req)

    client = httpx.AsyncClient(transport=httpx.MockTransport(record))
    ctx = PluginContext(http=client, secret=lambda n: {"tok": "s3cret"}[n], clock=lambda: NOW)
    return cls("t", {"url": "http://backend:1", **options}, ctx), seen


def fixture(fixtures_dir: Path, name: str) -> bytes:
    return (fixtures_dir / name).read_bytes()


NOT_FOUND_ROUTE = httpx.Response(404, text="404 page not found\n")
NO_TRACES = httpx.Response(404, text='{"error":{"httpCode":404,"message":"No traces found"}}')


async def test_every_plugin_is_a_trace_source(fixtures_dir: Path) -> None:
    for cls in (JaegerPlugin, TempoPlugin, ZipkinPlugin):
        plugin, _ = make(cls, lambda r: httpx.Response(200, json={}))
        assert isinstance(plugin, Traces)


async def test_jaeger_api_v3_search_params_and_route_fallback(fixtures_dir: Path) -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.path == "/api/v3/trace-summaries":
            return NOT_FOUND_ROUTE  # Jaeger < 2.19
        assert req.url.path == "/api/v3/traces"
        return httpx.Response(200, content=fixture(fixtures_dir, "jaeger/apiv3_get_trace.json"))

    plugin, seen = make(JaegerPlugin, handler, auth={"bearer": {"secret": "tok"}})
    q = TraceQuery(
        service="frontend",
        operation="GET /",
        errors_only=True,
        start_ns=int(NOW * 1e9) - 3600 * 10**9,
        limit=5,
    )
    [row] = await plugin.find_traces(q)
    assert (row.trace_id, row.error_count, row.source) == (
        "00000000000000000000000000000001",
        1,
        "jaeger",
    )
    params = seen[-1].url.params
    assert params["query.service_name"] == "frontend" and params["query.operation_name"] == "GET /"
    assert params["query.start_time_min"] == "2023-11-14T21:13:20.000000000Z"
    assert params["query.start_time_max"] == "2023-11-14T22:13:20.000000000Z"
    assert json.loads(params["query.attributes"]) == {"error": "true"}
    assert seen[-1].headers["authorization"] == "Bearer s3cret"
    await plugin.find_traces(q)
    assert [r.url.path for r in seen].count("/api/v3/trace-summaries") == 1  # remembered


async def test_jaeger_trace_summaries_and_404_means_no_traces(fixtures_dir: Path) -> None:
    body = fixture(fixtures_dir, "jaeger/apiv3_find_trace_summaries.json")
    plugin, _ = make(JaegerPlugin, lambda r: httpx.Response(200, content=body))
    [row] = await plugin.find_traces(TraceQuery(service="frontend"))
    assert (row.root_service, row.span_count, row.error_count) == ("frontend", 2, 1)
    empty, seen = make(JaegerPlugin, lambda r: NO_TRACES)
    assert await empty.find_traces(TraceQuery(service="nobody")) == []
    assert len(seen) == 1  # a JSON 404 is an answer, not a missing route


async def test_jaeger_falls_back_to_the_ui_api(fixtures_dir: Path) -> None:
    ui = {"data": [json.loads(fixture(fixtures_dir, "jaeger/ui_trace_01.json"))], "errors": None}

    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.path.startswith("/api/v3/"):
            return NOT_FOUND_ROUTE
        return httpx.Response(200, json=ui)

    plugin, seen = make(JaegerPlugin, handler)
    [row] = await plugin.find_traces(
        TraceQuery(
            service="service-x",
            start_ns=1_000_000_000_000,
            end_ns=2_000_000_000_000,
            min_duration_ms=0.001,
        )
    )
    assert (row.trace_id, row.root_service, row.span_count, row.error_count) == (
        "00000000000000000000000000000001",
        "service-x",
        5,
        1,
    )
    p = seen[-1].url.params
    assert (seen[-1].url.path, p["service"], p["start"], p["end"], p["minDuration"]) == (
        "/api/traces",
        "service-x",
        "1000000000",
        "2000000000",
        "0.001ms",
    )
    t = await plugin.trace("1")
    assert t is not None and seen[-1].url.path == "/api/traces/00000000000000000000000000000001"
    assert t.first_error_span_id is not None


async def test_jaeger_trace_by_id(fixtures_dir: Path) -> None:
    body = fixture(fixtures_dir, "jaeger/apiv3_get_trace.json")
    plugin, seen = make(JaegerPlugin, lambda r: httpx.Response(200, content=body))
    t = await plugin.trace("00000000000000000000000000000001")
    assert t is not None and t.first_error_span_id == "0000000000000002"
    assert seen[0].url.path == "/api/v3/traces/00000000000000000000000000000001"
    missing, _ = make(JaegerPlugin, lambda r: NO_TRACES)
    assert await missing.trace("00000000000000000000000000000002") is None


async def test_tempo_search_and_trace() -> None:
    search = {
        "traces": [
            {
                "traceID": "a03ee8fff1dcd9b9",
                "rootServiceName": "shop",
                "rootTraceName": "pay",
                "startTimeUnixNano": "1",
                "durationMs": 3,
            }
        ]
    }
    trace = {
        "trace": {
            "resourceSpans": [{"resource": TEMPO_RESOURCE, "scopeSpans": [{"spans": TEMPO_SPANS}]}]
        }
    }

    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.path == "/api/search":
            return httpx.Response(200, json=search)
        if req.url.path == f"/api/v2/traces/{TEMPO_TID}":
            return httpx.Response(200, json=trace)
        return httpx.Response(404, text="trace not found")

    plugin, seen = make(TempoPlugin, handler, tenant="team-a")
    [row] = await plugin.find_traces(
        TraceQuery(service="shop", errors_only=True, start_ns=10**18 + 1, end_ns=2 * 10**18 + 1)
    )
    assert row.trace_id == "0000000000000000a03ee8fff1dcd9b9"
    p = seen[0].url.params
    assert p["q"] == '{ resource.service.name = "shop" && status = error }'
    assert (p["start"], p["end"]) == ("1000000000", "2000000001")
    assert seen[0].headers["x-scope-orgid"] == "team-a"
    t = await plugin.trace(TEMPO_TID.upper())
    assert t is not None and t.first_error_span_id == "00f067aa0ba902b7"
    assert await plugin.trace("1234") is None


async def test_tempo_old_trace_route() -> None:
    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.path.startswith("/api/v2/"):
            return NOT_FOUND_ROUTE
        return httpx.Response(
            200,
            json={
                "batches": [{"resource": TEMPO_RESOURCE, "scopeSpans": [{"spans": TEMPO_SPANS}]}]
            },
        )

    plugin, seen = make(TempoPlugin, handler)
    t = await plugin.trace(TEMPO_TID)
    assert t is not None and seen[-1].url.path == f"/api/traces/{TEMPO_TID}"


async def test_zipkin_search_and_trace(fixtures_dir: Path) -> None:
    spans = json.loads(fixture(fixtures_dir, "zipkin/yelp_trace.json"))

    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.path == "/api/v2/traces":
            return httpx.Response(200, json=[spans])
        if req.url.path == "/api/v2/trace/a03ee8fff1dcd9b9":
            return httpx.Response(200, json=spans)
        return httpx.Response(404, text="not found")

    plugin, seen = make(ZipkinPlugin, handler)
    [row] = await plugin.find_traces(
        TraceQuery(
            service="routing",
            operation="POST /x",
            start_ns=int(NOW * 1e9) - 60 * 10**9,
            min_duration_ms=2.5,
        )
    )
    assert (row.root_service, row.root_name, row.span_count, row.duration_ms) == (
        "routing",
        "post /location/update/v4",
        16,
        131.848,
    )
    p = seen[0].url.params
    assert (p["serviceName"], p["spanName"], p["endTs"], p["lookback"], p["minDuration"]) == (
        "routing",
        "post /x",
        str(int(NOW * 1000)),
        "60000",
        "2500",
    )
    t = await plugin.trace("0000000000000000a03ee8fff1dcd9b9")
    assert t is not None and len(t.spans) == 16
    assert await plugin.trace("00000000000000000000000000000bad") is None
    assert await plugin.find_traces(TraceQuery(service="routing", errors_only=True)) == []


@pytest.mark.parametrize(
    ("response", "error", "words"),
    [
        (httpx.Response(401, text="no"), BackendAuthError, "credentials"),
        (httpx.Response(403, text="no"), BackendAuthError, "credentials"),
        (httpx.Response(503, text="warming up"), BackendUnavailable, "not ready"),
        (httpx.Response(500, text="boom"), BackendUnavailable, "500"),
        (httpx.Response(200, text="<html>"), BadResponse, "not JSON"),
        (httpx.Response(200, json={"traces": "nope"}), BadResponse, "unexpected answer"),
    ],
)
async def test_http_errors_become_typed_errors(
    response: httpx.Response, error: type[Exception], words: str
) -> None:
    for cls in (TempoPlugin, ZipkinPlugin):
        plugin, _ = make(cls, lambda r: response)
        if cls is ZipkinPlugin and response.status_code == 200 and "traces" in response.text:
            continue  # a JSON object is a wrong shape for Zipkin too, checked below
        with pytest.raises(error, match=words):
            await plugin.find_traces(TraceQuery(service="x"))


async def test_wrong_shape_and_refused_connection() -> None:
    z, _ = make(ZipkinPlugin, lambda r: httpx.Response(200, json={"not": "a list"}))
    with pytest.raises(BadResponse):
        await z.find_traces(TraceQuery(service="x"))

    def refuse(req: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    j, _ = make(JaegerPlugin, refuse)
    with pytest.raises(BackendUnavailable, match="connection refused"):
        await j.trace("1")
    status = await j.check()
    assert not status.ok and "connection refused" in (status.error or "")


async def test_otlp_plugin_reads_the_span_store() -> None:
    store = SpanStore(Store(":memory:"), clock=lambda: NOW)
    tid = "0af7651916cd43dd8448eb211c80319c"
    store.add(
        [
            Span(tid, "00f067aa0ba902b7", None, "checkout", "POST /pay", 10, 100),
            Span(
                tid, "00f067aa0ba902b8", "00f067aa0ba902b7", "db", "query", 20, 50, status="error"
            ),
        ]
    )
    plugin = OtlpPlugin(
        "otlp",
        {},
        PluginContext(http=None, secret=str, clock=lambda: NOW, span_store=store),
    )
    assert isinstance(plugin, Traces) and (await plugin.check()).ok
    [row] = await plugin.find_traces(
        TraceQuery(service="checkout", operation="POST /pay", errors_only=True)
    )
    assert (row.root_name, row.span_count, row.error_count, row.source) == (
        "POST /pay",
        2,
        1,
        "otlp",
    )
    assert await plugin.find_traces(TraceQuery(service="checkout", operation="GET /")) == []
    t = await plugin.trace(tid.upper())
    assert t is not None and t.first_error_span_id == "00f067aa0ba902b8"
