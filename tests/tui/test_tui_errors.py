"""Errors in plain sight: an unreachable backend never looks like a healthy, empty fleet.

The fleet shows a banner naming the failing backend, its URL, the first error of the
failure and its age until the backend recovers; the status line says "no data from prom"
rather than "0 functions · 0 unhealthy"; ``b`` keeps the original error beside the
circuit state once the breaker opens.
"""

from __future__ import annotations

import io

from rich.console import Console
from textual.widgets import Static

from console.core.model import BackendStatus, Function, Signals
from console.engine.fleet.refresh import Backend, Fleet
from console.errors import BackendUnavailable
from console.tui.app import CallboardApp
from console.tui.dialogs.backends import BackendsScreen, backends_list
from console.tui.health import Failing
from tests.tui.test_tui import SIZE, screen_text, settled
from tests.tui_helpers import T0, FakeFleetPlugin

URL = "http://prom.internal:9090"


class Unreachable:
    """Inventory + Metrics at ``URL`` that refuse connections until ``up`` is set."""

    url = URL

    def __init__(self) -> None:
        self.up = False
        self.inner = FakeFleetPlugin(6)

    async def functions(self) -> list[Function]:
        if not self.up:
            raise BackendUnavailable(f"cannot connect to {URL}: connection refused")
        return await self.inner.functions()

    async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
        if not self.up:
            raise BackendUnavailable(f"cannot connect to {URL}: connection refused")
        return await self.inner.signals(functions, window)

    async def aclose(self) -> None:
        return None


class UnreachableMetrics:
    """Metrics only (the inventory comes from elsewhere), refusing connections."""

    url = URL

    async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
        raise BackendUnavailable(f"cannot connect to {URL}: connection refused")

    async def series(self, *a: object) -> list[tuple[float, float]]:
        return []

    async def aclose(self) -> None:
        return None


def banner(app: CallboardApp) -> str:
    w = app.screen_stack[0].query_one("#backend-banner", Static)
    return str(w.render()) if w.display else ""


def info(app: CallboardApp) -> str:
    return str(app.screen_stack[0].query_one("#fleet-info", Static).render())


async def test_an_unreachable_inventory_backend_shows_a_banner_not_an_empty_fleet() -> None:
    now = [T0]
    prom = Unreachable()
    fleet = Fleet([Backend("prom", "prometheus", prom)], clock=lambda: now[0], attempts=1)
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        text = banner(app)
        assert "prom" in text and URL in text
        assert "connection refused" in text
        assert "failing for 0s" in text
        assert "0 functions" not in info(app) and "0 unhealthy" not in info(app)
        assert "no data from prom" in info(app)

        for t in (T0 + 10, T0 + 20, T0 + 30):  # the third failure opens the circuit
            now[0] = t
            app.action_refresh_now()
            await settled(app, pilot)
        assert "circuit open" in (app.snapshot.backends[0].error or "")  # type: ignore[union-attr]
        text = banner(app)
        assert "connection refused" in text  # the first error, not "circuit open"
        assert "failing for 30s" in text

        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, BackendsScreen)
        shown = " ".join(screen_text(app).split())
        assert "circuit open" in shown
        assert "connection refused" in shown and URL in shown
        assert "first failed 30s ago" in shown
        await pilot.press("escape")

        prom.up = True
        now[0] = T0 + 200  # past the cooldown: the trial call goes through
        app.action_refresh_now()
        await settled(app, pilot)
        assert banner(app) == ""
        assert "6 functions" in info(app)


async def test_a_failing_metrics_backend_beside_a_healthy_inventory_keeps_the_counts() -> None:
    now = [T0]
    fleet = Fleet(
        [
            Backend("fake", "fake", FakeFleetPlugin(8)),
            Backend("prom", "prometheus", UnreachableMetrics()),
        ],
        clock=lambda: now[0],
        attempts=1,
    )
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert "prom" in banner(app) and "connection refused" in banner(app)
        assert "fake" not in banner(app).split("prom")[0]
        assert "8 functions" in info(app)


def test_at_80_columns_b_puts_each_error_under_its_backend_in_full() -> None:
    status = BackendStatus(
        "prom",
        "prometheus",
        ok=False,
        error="circuit open after 3 failures, retrying later",
        stale_s=None,
    )
    first = Failing("prom", URL, f"cannot connect to {URL}: connection refused", 90.0, True)
    out = io.StringIO()
    Console(file=out, width=76, color_system=None).print(backends_list([status], (), [first]))
    text = " ".join(out.getvalue().split())
    assert "prom prometheus failing, no data latency — last ok never" in text
    assert "circuit open after 3 failures" in text
    assert f"first failed 1m30s ago: cannot connect to {URL}: connection refused" in text
