"""High-cardinality route labels collapse into templates (issue 12, item 2).

prometheus-flask-exporter labels its histogram with the concrete URL (``path="/orders/1001"``).
The rule is checked in Python here and inside real PromQL in tests/integration.
"""

from __future__ import annotations

import httpx
import pytest
from callboard_prometheus import PrometheusPlugin, parse, queries, routes

from console.errors import ConfigError
from console.plugin_api import PluginContext


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ("/orders/1001", "/orders/{id}"),
        ("/orders/1001/items/7", "/orders/{id}/items/{id}"),
        ("/u/3f2504e0-4f89-11d3-9a0c-0305e82c3301", "/u/{id}"),
        ("/blob/0123456789abcdef01", "/blob/{id}"),
        ("/orders/{order_id}", "/orders/{order_id}"),  # already a template
        ("/orders/<int:order_id>", "/orders/<int:order_id>"),
        ("/v2/api", "/v2/api"),
        ("/cafe", "/cafe"),  # short hex-looking words are words
        ("/users/bob", "/users/{name}"),  # a user pattern
        ("/users/bob/keys", "/users/bob/keys"),  # a pattern matches a whole route only
    ],
)
def test_collapse_rule(route: str, expected: str) -> None:
    assert routes.collapse(route, ["/users/{name}"]) == expected


@pytest.mark.parametrize(
    "value", ["/users/x", ["users/{x}"], ["/users/"], [3], ["/a/{x}}"], {"a": 1}]
)
def test_bad_route_patterns_are_config_errors(value: object) -> None:
    with pytest.raises(ConfigError, match="route_patterns"):
        queries.build_preset({"route_patterns": value})


def test_collapse_runs_inside_the_query_before_aggregation() -> None:
    preset = queries.build_preset({"preset": "prometheus-client", "route_patterns": ["/u/{n}"]})
    q = queries.requests_by_code(preset, "1m")
    assert q.startswith("sum by (")
    assert q.index("label_replace") > q.index("sum by") and '"$1/{id}$2"' in q
    assert '"/u/{n}", "cb_route", "/u/[^/]+"' in q
    off = queries.build_preset({"preset": "prometheus-client", "collapse_routes": False})
    assert "{id}" not in queries.requests_by_code(off, "1m")


def test_discovery_counts_collapsed_urls_and_warns() -> None:
    rows = [({"cb_service": "shop", "cb_route": "/orders/{id}", "cb_method": "GET"}, 230.0)]
    rows += [({"cb_service": "shop", "cb_route": "/cart", "cb_method": "GET"}, 1.0)]
    warnings = parse.route_warnings(rows)
    assert len(warnings) == 1
    assert "shop" in warnings[0] and "230 were collapsed into 1 route" in warnings[0]
    many = [({"cb_service": "s", "cb_route": f"/u/x{i}"}, 1.0) for i in range(parse.MANY_ROUTES)]
    assert "high cardinality" in parse.route_warnings(many)[0]


async def test_route_warnings_survive_the_signals_call() -> None:
    """The engine reads warnings after each call: discovery's must still be there."""

    def handler(request: httpx.Request) -> httpx.Response:
        q = request.content.decode()
        result = []
        if "count+by" in q or "count%20by" in q:  # the discovery query of the functions
            metric = {"cb_service": "shop", "cb_route": "/orders/{id}", "cb_method": "GET"}
            result = [{"metric": metric, "value": [1.7e9, "230"]}]
        body = {"status": "success", "data": {"resultType": "vector", "result": result}}
        return httpx.Response(200, json=body)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    ctx = PluginContext(http=http, secret=lambda n: n, clock=lambda: 1.7e9)
    opts = {"preset": "prometheus-client", "scrape_interval": "15s", "burn_windows": False}
    p = PrometheusPlugin("prom", {"url": "http://prom.test", **opts}, ctx)
    fns = await p.functions()
    assert [f.id for f in fns] == ["shop:GET /orders/{id}"]
    await p.signals(fns, "5m")
    await http.aclose()
    assert any("collapsed" in w for w in p.warnings)


def test_series_query_of_a_collapsed_route_does_not_match_raw_series_by_it() -> None:
    preset = queries.build_preset({"preset": "prometheus-client", "labels": {"route": ["path"]}})
    assert queries.narrow(preset, {"service": "shop", "route": "/orders/{id}"}) == ""


def test_flask_exporter_counts_by_difference_so_one_request_urls_are_seen() -> None:
    """rate() never sees a series whose only request came before its first scrape: the
    prometheus-flask-exporter convention sums the counters and subtracts a window ago."""
    preset = queries.build_preset({"preset": "prometheus-flask-exporter"})
    q = queries.requests_by_code(preset, "1m")
    assert "rate(" not in q and "offset 1m" in q and "clamp_min(" in q and q.endswith("/ 60")
    assert "rate(" in queries.requests_by_code(queries.build_preset({"preset": "otel-http"}), "1m")
    with pytest.raises(ConfigError, match="counting"):
        queries.build_preset({"counting": "sometimes"})


def test_template_conventions_do_not_pay_for_the_rule() -> None:
    """OTel http.route and Micrometer uri are templates by specification."""
    for name in ("otel-http", "micrometer"):
        assert "{id}" not in queries.requests_by_code(queries.build_preset({"preset": name}), "1m")
    on = queries.build_preset({"preset": "otel-http", "collapse_routes": True})
    assert "{id}" in queries.requests_by_code(on, "1m")
