"""Pilot: the fleet table formats the rows it paints, not the 1,000 it holds, and the
mouse works on it as on a DataTable (click selects, a second click opens)."""

from __future__ import annotations

from console.tui.app import CallboardApp
from console.tui.screens.function import FunctionScreen
from tests.tui.test_tui import keys, settled, table
from tests.tui_helpers import demo_fleet

SIZE = (140, 45)


async def test_a_refresh_of_1000_rows_formats_only_the_rows_on_screen() -> None:
    app = CallboardApp(demo_fleet(1000), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        t = table(app)
        assert t.row_count == 1000
        on_screen = t.size.height - t.header_height
        before = t.formatted
        app.action_refresh_now()
        await settled(app, pilot)
        assert 0 < t.formatted - before <= on_screen  # not the 1,000 rows held
        await pilot.press("end")  # the last rows are formatted when they are shown
        await pilot.pause()
        assert t.get_cell(keys(app)[-1], "id").plain
        assert t.formatted - before <= 3 * on_screen


async def test_click_selects_a_row_and_a_second_click_opens_it() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        t = table(app)
        await pilot.click(t, offset=(10, 3))  # header, row 0, row 1, row 2
        await pilot.pause()
        assert t.cursor_row == 2 and isinstance(app.screen, type(app.screen_stack[0]))
        chosen = t.cursor_key
        await pilot.click(t, offset=(10, 3))
        await pilot.pause()
        assert isinstance(app.screen, FunctionScreen) and app.screen.function_id == chosen
