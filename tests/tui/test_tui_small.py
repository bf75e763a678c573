"""Small things a user notices: Home/End, q on the help, ctrl+r while paused, the view
after a re-sort, the modes column's order, and the wording of a few lines."""

from __future__ import annotations

from console.context import AppContext
from console.tui.app import CallboardApp
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.dialogs.help import HelpScreen
from console.tui.screens.waterfall import WaterfallScreen
from tests.tui.test_tui import SIZE, keys, screen_text, settled, table
from tests.tui.test_tui_runner import PAY, dry_run, make_app, modal, runner_for
from tests.tui.test_tui_traces import chain, open_traces, text_of
from tests.tui_helpers import FakeFleetPlugin, demo_fleet, fake_fleet


async def test_home_and_end_go_to_the_first_and_last_row() -> None:
    app = CallboardApp(fake_fleet(40), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await pilot.press("end")
        assert table(app).cursor_key == keys(app)[-1]
        await pilot.press("home")
        assert table(app).cursor_key == keys(app)[0]


async def test_home_and_end_in_the_traces_table() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_traces(app, pilot)
        t = screen.table
        assert t.row_count > 2
        await pilot.press("end")
        assert t.cursor_row == t.row_count - 1
        await pilot.press("home")
        assert t.cursor_row == 0


async def test_q_on_the_help_quits() -> None:
    app = CallboardApp(fake_fleet(5), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_ctrl_r_while_paused_shows_that_refresh() -> None:
    fleet = fake_fleet(20)
    plugin = fleet.backends[0].plugin
    assert isinstance(plugin, FakeFleetPlugin)
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled(app, pilot)
        await pilot.press("p")
        plugin.fns = plugin.fns[:12]  # eight functions went away
        await pilot.press("ctrl+r")
        await settled(app, pilot)
        assert app.paused and table(app).row_count == 12
        assert any("Paused: showing this one refresh" in n.message for n in app._notifications)


async def test_a_resort_shows_the_top_of_the_new_order_and_keeps_the_selection() -> None:
    app = CallboardApp(fake_fleet(40), refresh_interval=3600)
    async with app.run_test(size=(140, 20)) as pilot:
        await settled(app, pilot)
        await pilot.press("down", "down", "down")
        picked = table(app).cursor_key
        assert picked is not None
        await pilot.press("s")  # by function id: the selected row moves far down
        await pilot.pause()
        await pilot.pause()
        assert keys(app) == sorted(keys(app)) and keys(app).index(picked) > 15
        assert table(app).cursor_key == picked
        assert table(app).scroll_y == 0  # the top of the new order is on screen


async def test_modes_sort_by_mode_number() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        app.sort_by("modes")
        await pilot.pause()
        codes = [table(app).get_cell(k, "modes").plain.split()[0] for k in keys(app)[:10]]
        assert codes == [f"F{i}" for i in range(1, 11)]  # F10 last, not after F1


async def test_one_error_span_is_singular() -> None:
    app = CallboardApp(fake_fleet(5), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await app.push_screen(WaterfallScreen("ab" * 16, chain(3)))  # one failing span
        await pilot.pause()
        assert "1 error span " in text_of(app, "#wf-title")  # not "1 error spans"


async def test_runner_header_and_production_confirmation_wording(ctx: AppContext) -> None:
    app = make_app(ctx, production=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot)
        assert f"on {PAY} in PRODUCTION prod-eu" in screen_text(app)  # one space
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await modal(pilot, app, ConfirmScreen)
        text = " ".join(screen_text(app).split())
        assert "Asked for" not in text
        assert "Why asked " in text and "PRODUCTION" in text.split("Why asked ")[1][:120]
        await pilot.press("escape")
