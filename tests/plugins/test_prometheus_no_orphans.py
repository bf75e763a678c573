"""A failing Prometheus query leaves none of its sibling queries running (MockTransport).

``signals`` sends its three queries at once. When one failed, the other two kept running
after the error was raised: nobody awaited them, so a client closed next (the status
command's, a test's) left their sockets open, and the ``ResourceWarning: unclosed
<socket>`` surfaced at garbage collection in whichever test ran then.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from callboard_prometheus import PrometheusPlugin

from console.core.model import Function
from console.errors import BadResponse
from console.plugin_api import PluginContext

FN = Function(id="checkout:POST /pay", service="checkout", operation="POST /pay")
BAD = {"status": "error", "errorType": "bad_data", "error": "parse error"}


async def test_a_failing_query_cancels_the_others_before_the_error_is_raised() -> None:
    in_flight: list[int] = []
    never = asyncio.Event()  # the other queries answer only when cancelled
    seen = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal seen
        seen += 1
        if seen == 1:
            return httpx.Response(400, json=BAD)
        mine = seen
        in_flight.append(mine)
        try:
            await never.wait()
        finally:
            in_flight.remove(mine)
        raise AssertionError("unreachable: the event is never set")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        ctx = PluginContext(http=http, secret=lambda n: n, clock=lambda: 1.7e9)
        opts = {"url": "http://prom.test", "preset": "otel-http", "scrape_interval": "15s"}
        plugin = PrometheusPlugin("prom", opts, ctx)
        with pytest.raises(BadResponse, match="parse error"):
            await plugin.signals([FN], "5m")
        assert seen >= 2  # the siblings were sent: this exercises the case
        assert in_flight == []  # and they are over when signals() has raised
