"""Alertmanager alerts in the console: a silenced alert stays on its function marked
"silenced until T (silence id)", and alerts that match no function are listed under
their backend on the backends screen (``b``)."""

from __future__ import annotations

import httpx
from callboard_alertmanager import AlertmanagerPlugin

from console.engine.fleet.refresh import Backend
from console.plugin_api import PluginContext
from console.tui.app import CallboardApp
from console.tui.dialogs.backends import BackendsScreen
from console.tui.screens.function import FunctionScreen
from tests.plugins.test_alertmanager import gettable
from tests.tui.test_tui import SIZE, screen_text, settled
from tests.tui_helpers import fake_fleet, fixed_clock

PAY = "checkout:POST /pay"
SILENCED = {
    **gettable(
        {
            "alertname": "HighErrorRate",
            "severity": "page",
            "job": "checkout",
            "handler": "/pay",
            "method": "POST",
        }
    ),
    "status": {"state": "suppressed", "silencedBy": ["5e1f-77"], "inhibitedBy": []},
}
STRAY = gettable({"alertname": "NodeDown", "severity": "page", "instance": "10.0.0.9:9100"})
SILENCE = {
    "id": "5e1f-77",
    "status": {"state": "active"},
    "matchers": [],
    "startsAt": "2026-08-24T10:00:00Z",
    "endsAt": "2026-08-24T10:20:00.000Z",
    "createdBy": "callboard",
    "comment": "INC-7",
}


def handler(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/api/v2/silences":
        return httpx.Response(200, json=[SILENCE])
    return httpx.Response(200, json=[SILENCED, STRAY])


async def test_silenced_alert_shown_on_its_function_and_stray_alert_on_backends() -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        ctx = PluginContext(http=http, secret=lambda n: n, clock=fixed_clock)
        am = AlertmanagerPlugin("am", {"url": "http://am.test"}, ctx)
        app = CallboardApp(fake_fleet(10, Backend("am", "alertmanager", am)), refresh_interval=3600)
        async with app.run_test(size=SIZE) as pilot:
            await settled(app, pilot)
            app.open_function(PAY)
            await pilot.pause()
            assert isinstance(app.screen, FunctionScreen)
            row = next(r for r in screen_text(app).splitlines() if "HighErrorRate" in r)
            assert "silenced until 2026-08-24T10:20:00Z (5e1f-77)" in row
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("b")
            await pilot.pause()
            assert isinstance(app.screen, BackendsScreen)
            text = screen_text(app)
            assert (
                "1 alert matched no function: NodeDown {instance=10.0.0.9:9100, severity=page}"
                in text
            )
