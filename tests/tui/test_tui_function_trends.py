"""The function screen's trends: the whole last hour, the success rate on the SLO's scale
(noise stays flat), and the history fetched again about once a minute while open."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from console.core.model import Function
from console.engine.fleet.refresh import Backend, Fleet
from console.tui.app import CallboardApp
from console.tui.screens.function import FunctionScreen
from tests.tui.test_tui import SIZE, screen_text, settled
from tests.tui_helpers import T0, FakeFleetPlugin

PAY = "checkout:POST /pay"
TALL = "▆▇█"


class History(FakeFleetPlugin):
    """Hourly history: success wobbling between 99.98% and 99.99%; records each fetch."""

    def __init__(self, size: int, success: bool = True) -> None:
        super().__init__(size)
        self.success = success
        self.fetches: list[tuple[float, float, float]] = []

    async def series(
        self, function: Function, signal: str, start: float, end: float, step: float
    ) -> list[tuple[float, float]]:
        if signal != "success_rate":
            return []
        self.fetches.append((start, end, step))
        if not self.success:
            return []
        n = int((end - start) // step) + 1
        return [(start + k * step, 0.9998 + 0.0001 * (k % 2)) for k in range(n)]


def shown(app: CallboardApp) -> FunctionScreen | None:
    return app.screen if isinstance(app.screen, FunctionScreen) else None


async def until(pilot: Pilot[None], ready: Callable[[], bool]) -> None:
    for _ in range(300):
        if ready():
            return
        await pilot.pause()
    raise AssertionError("gave up waiting")


def trend_row(app: CallboardApp, label: str) -> str:
    rows = [r.strip() for r in screen_text(app).splitlines()]
    return next(r for r in rows if r.startswith(label) and "trend:" not in r)


async def open_pay(now: list[float], plugin: History) -> tuple[CallboardApp, Fleet]:
    fleet = Fleet([Backend("fake", "fake", plugin)], clock=lambda: now[0], attempts=1)
    return CallboardApp(fleet, refresh_interval=3600), fleet


async def test_last_hour_spans_the_hour_and_success_noise_stays_flat() -> None:
    now = [T0]
    plugin = History(10)
    app, _fleet = await open_pay(now, plugin)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        app.open_function(PAY)
        await until(pilot, lambda: getattr(shown(app), "series", None) is not None)
        start, end, step = plugin.fetches[0]
        assert end - start + step == 3600  # 24 cells × 150 s: the whole hour, not 24 min
        screen = app.screen
        assert isinstance(screen, FunctionScreen) and screen.series is not None
        assert len(screen.series["success_rate"]) == 24
        row = trend_row(app, "success rate")
        spark = row.split()[-1]
        assert len(spark) == 24 and not any(c in TALL for c in spark)  # 0.01-0.02% errors
        assert "success rate trend: errors, 0 to 2× the error budget (0.20%)" in screen_text(app)


async def test_session_fallback_is_labelled_and_history_reloads_each_minute() -> None:
    now = [T0]
    plugin = History(10, success=False)
    app, _fleet = await open_pay(now, plugin)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        app.open_function(PAY)
        await until(pilot, lambda: getattr(shown(app), "series", None) is not None)
        assert "this session's refreshes (no history from the backend)" in screen_text(app)
        fetched = len(plugin.fetches)
        for t, more in ((T0 + 30, 0), (T0 + 65, 1), (T0 + 95, 1), (T0 + 130, 2)):
            now[0] = t
            app.action_refresh_now()
            await settled(app, pilot)
            want = fetched * (1 + more)
            await until(pilot, lambda w=want: len(plugin.fetches) >= w)  # type: ignore[misc]
            for _ in range(5):
                await pilot.pause()
            assert len(plugin.fetches) == want, t
