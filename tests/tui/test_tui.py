"""Pilot tests: what an on-call engineer sees and does on the fleet and function screens."""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Static

from console.core.model import Function, Signals
from console.engine.fleet.refresh import Backend, Fleet
from console.tui.app import CallboardApp
from console.tui.dialogs.help import HelpScreen
from console.tui.fleetview import COLUMN_KEYS, COLUMNS, build_rows, is_group
from console.tui.screens.fleet import FleetScreen
from console.tui.screens.function import FunctionScreen
from console.tui.screens.traces import TracesScreen
from console.tui.widgets.fleet_table import FleetTable
from console.tui.widgets.status_bar import StatusBar
from tests.tui_helpers import T0, FailingPlugin, FakeFleetPlugin, HangingPlugin, fake_fleet

SIZE = (140, 45)


async def settled(app: CallboardApp, pilot: Pilot[None]) -> None:
    """Wait for the refresh in flight to finish and its snapshot to be applied."""
    if app._refresh is not None:
        await app._refresh.wait()
    await pilot.pause()


def table(app: CallboardApp) -> FleetTable:
    return app.screen_stack[0].query_one(FleetTable)


def keys(app: CallboardApp) -> list[str]:
    return table(app).row_keys


def screen_text(app: CallboardApp) -> str:
    """Every Static on the current screen, rendered as plain text."""
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    for w in app.screen.query(Static):
        console.print(w.content)
    return out.getvalue()


def header(app: CallboardApp) -> str:
    return str(app.screen.query_one(StatusBar).render())


async def test_unhealthy_first_and_ids_are_not_markup() -> None:
    app = CallboardApp(fake_fleet(40), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert table(app).row_count == 40
        order = keys(app)
        assert order[0] == "checkout:POST /pay"  # the one that pages
        assert all(k.startswith("svc") for k in order[1:7])  # then the throttling tickets
        cell = table(app).get_cell("search:GET /q[prod]", "id")
        assert isinstance(cell, Text) and cell.plain == "search:GET /q[prod]"
        assert table(app).get_cell("svc0001:GET /op1", "success").plain == "—"  # no data


async def test_sort_by_key_by_header_click_and_reverse() -> None:
    app = CallboardApp(fake_fleet(40), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await pilot.press("s")  # health → function id
        assert keys(app) == sorted(keys(app))
        await pilot.press("S")
        assert keys(app) == sorted(keys(app), reverse=True)
        x = sum(c.width + 2 for c in COLUMNS[: COLUMN_KEYS.index("p99")]) + 3
        await pilot.click(FleetTable, offset=(x, 0))  # the "p99" header
        await pilot.pause()
        assert app.screen_stack[0].options.sort == "p99"  # type: ignore[attr-defined]
        assert keys(app)[0] == "checkout:POST /pay"  # 2.95s, the slowest
        assert "p99 ▼" in str(table(app).header_label("p99"))


async def test_filter_substring_regex_mode_and_escape() -> None:
    app = CallboardApp(fake_fleet(40), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await pilot.press("slash", *"throttling")  # a failure mode's name
        assert len(keys(app)) == 6 and all(k.startswith("svc") for k in keys(app))
        info = str(app.screen.query_one("#fleet-info").render())
        assert "6 of 40 functions" in info
        await pilot.press("escape")
        assert len(keys(app)) == 40
        await pilot.press("slash", *"svc000[12]:get /op1", "enter")
        assert keys(app) == ["svc0001:GET /op1", "svc0002:GET /op1"] or set(keys(app)) == {
            "svc0001:GET /op1",
            "svc0002:GET /op1",
        }
        assert isinstance(app.focused, FleetTable)  # Enter kept the filter, back on the table
        await pilot.press("escape")
        await pilot.press("slash", *"q[prod")  # not a valid regex: plain substring
        assert keys(app) == ["search:GET /q[prod]"]


async def test_toggles_only_unhealthy_and_group_by_owner() -> None:
    app = CallboardApp(fake_fleet(40), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await pilot.press("u")
        assert len(keys(app)) == 7
        await pilot.press("u", "g")
        heads = [table(app).get_cell(k, "id").plain for k in keys(app) if is_group(k)]
        assert heads[0] == "▾ payments" and len(heads) == len(set(heads))  # one head per group
        assert "grouped by owner" in str(app.screen.query_one("#fleet-info").render())


async def test_pause_stops_refresh_and_says_so() -> None:
    fleet = fake_fleet(40)
    plugin = fleet.backends[0].plugin
    assert isinstance(plugin, FakeFleetPlugin)
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await pilot.press("p")
        assert "PAUSED" in header(app)
        calls = plugin.calls
        app._tick()  # what the timer does
        await pilot.pause()
        assert plugin.calls == calls
        await pilot.press("p")
        assert "PAUSED" not in header(app)


async def test_selection_stays_put_and_only_changed_cells_update() -> None:
    app = CallboardApp(fake_fleet(40), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await pilot.press("down", "down", "down", "down", "down", "down", "down", "down")
        chosen = table(app).cursor_key
        assert chosen is not None
        for _ in range(3):
            app.action_refresh_now()
            await settled(app, pilot)
            assert table(app).cursor_key == chosen
            assert table(app).row_count == 40
            assert table(app).last_updates < 40 * 10  # a diff, not a rebuild
            assert app.snapshot is not None
            view = build_rows(app.snapshot, app.fleet_screen.options)
            for key, cells in view.rows:  # what is shown is exactly the latest snapshot
                assert [c.plain for c in table(app).get_row(key)] == [c.plain for c in cells]


async def test_drill_down_and_back() -> None:
    app = CallboardApp(fake_fleet(40), refresh_interval=3600)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled(app, pilot)
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FunctionScreen) and screen.function_id == "checkout:POST /pay"
        text = screen_text(app)
        for expected in ("@payments-oncall", "F1 Timeout", "postgres", "v2.14.1", "27.0×"):
            assert expected in text
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TracesScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FunctionScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen)
        assert table(app).cursor_key == "checkout:POST /pay"
        await pilot.press("down", "enter")
        await pilot.pause()
        await pilot.press("backspace")
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen)


async def test_help_lists_keys_and_modes() -> None:
    app = CallboardApp(fake_fleet(10), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        body = screen_text(app)
        assert "F10" in body
        assert "Dependency outage" in body
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen)


async def test_palette_goes_to_function() -> None:
    app = CallboardApp(fake_fleet(40), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await pilot.press("ctrl+p", *"q[prod")
        await pilot.pause(0.3)  # the palette searches in the background
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, FunctionScreen)
        assert app.screen.function_id == "search:GET /q[prod]"


async def test_y_copies_the_selected_id() -> None:
    app = CallboardApp(fake_fleet(10), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await pilot.press("y")
        assert app.clipboard == "checkout:POST /pay"


async def test_keys_answer_while_a_backend_hangs() -> None:
    hang = HangingPlugin()
    fleet = fake_fleet(20, Backend("prom", "prometheus", hang), timeout=60)
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await hang.started.wait()
        assert "loading the fleet" in header(app)
        await pilot.press("question_mark")
        await pilot.pause()
        # the key was answered while the backend still hangs: the UI never waits on it
        # (no wall-clock bound: that is the bench's job, and it flaked on a loaded machine)
        assert isinstance(app.screen, HelpScreen)
        assert app._refresh is not None and app._refresh.is_running
        await pilot.press("escape")
        assert app._refresh is not None and app._refresh.is_running
        app._tick()  # the next tick is skipped, never stacked
        await pilot.pause()
        assert "still waiting for prom" in header(app)
        hang.release.set()
        await settled(app, pilot)
        assert table(app).row_count == 20
        # answered: ok, or "slow" with its latency when the hold above took long on a busy box
        assert "still waiting" not in header(app)
        assert "prom ok" in header(app) or "prom slow" in header(app)


async def test_hanging_backend_times_out_and_shows_failing() -> None:
    hang = HangingPlugin()
    fleet = fake_fleet(20, Backend("prom", "prometheus", hang), timeout=0.1)
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert "prom failing, no data" in header(app)
        assert "fake ok" in header(app)
        assert table(app).row_count == 20  # the healthy backend's data is still shown


async def test_erroring_backend_turns_stale_with_age() -> None:
    now = [T0]
    fake = FakeFleetPlugin(12)

    class Flaky(FailingPlugin):
        broken = False

        async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
            if self.broken:
                return await super().signals(functions, window)
            return {}

    flaky = Flaky()
    fleet = Fleet(
        [Backend("fake", "fake", fake), Backend("prom", "prometheus", flaky)],
        clock=lambda: now[0],
        timeout=1.0,
        attempts=1,
    )
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert "prom ok" in header(app)
        flaky.broken = True
        now[0] = T0 + 125
        app.action_refresh_now()
        await settled(app, pilot)
        assert "prom stale 2m05s" in header(app)
        assert table(app).row_count == 12


async def test_production_header_is_red_and_read_only_badge() -> None:
    fleet = fake_fleet(5, environment="prod-eu", production=True, read_only=True)
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        bar = app.screen.query_one(StatusBar)
        assert bar.has_class("-production")
        assert "PRODUCTION prod-eu" in header(app) and "READ-ONLY" in header(app)
