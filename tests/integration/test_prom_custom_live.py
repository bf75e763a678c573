"""The README's worked custom-preset example, run against the real Prometheus (issue 12).

The templates carry PromQL braces (``{job="app"}``) and ``$``-placeholders; the numbers
must be those of the instrumented app (tests/integration/instrumented_app.py).
"""

from __future__ import annotations

import time

import httpx
import pytest
from callboard_prometheus import PrometheusPlugin

from console.plugin_api import PluginContext
from tests.integration import instrumented_app as app
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration

#: Exactly the example in README.md ("Custom queries"), plus the short test windows.
EXAMPLE = {
    "preset": "custom",
    "labels": {
        "service": ["service_name", "job"],
        "route": ["http_route"],
        "method": ["http_request_method"],
        "code": ["http_response_status_code"],
    },
    "queries": {
        "requests": (
            'sum by ($by) (rate(http_server_request_duration_seconds_count{job="app"}[$window]))'
        ),
        "latency": (
            "histogram_quantile($q, sum by ($by) "
            '(rate(http_server_request_duration_seconds_bucket{job="app"}[$window])))'
        ),
    },
    "scrape_interval": "1s",
    "rate_window": "4s",
}


async def test_worked_custom_example_gives_the_apps_numbers(stack: Stack) -> None:
    ctx = PluginContext(http=None, secret=lambda n: n, clock=time.time)
    # a generous client timeout: the machine running the suite may be busy
    async with httpx.AsyncClient(timeout=30.0) as http:
        ctx.http = http
        plugin = PrometheusPlugin("prom", {"url": stack.prometheus, **EXAMPLE}, ctx)
        functions = await plugin.functions()
        pay = next(f for f in functions if f.id == "checkout:POST /pay")
        signals = (await plugin.signals([pay], "5m"))[pay.id]
    assert signals.rate_rps == pytest.approx(10.0, rel=0.05)
    assert signals.success_rate == pytest.approx(0.95, abs=1e-4)
    assert signals.p99_ms == pytest.approx(app.expected_quantile(0.99) * 1000, rel=0.01)
    assert plugin.warnings == ()
