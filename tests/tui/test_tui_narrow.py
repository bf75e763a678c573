"""At 100×30: the help fits (its right border shows, it scrolls to its end) and the fleet
table keeps the modes column on screen by giving up the trend and owner columns."""

from __future__ import annotations

from textual.containers import VerticalScroll

from console.tui.app import CallboardApp
from console.tui.dialogs.help import HelpScreen
from tests.tui.test_tui import keys, settled, table
from tests.tui_helpers import demo_fleet

NARROW = (100, 30)


def column_keys(app: CallboardApp) -> list[str]:
    return [c.key for c in table(app).shown_columns]


async def test_fleet_keeps_the_modes_column_on_a_narrow_screen() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=NARROW) as pilot:
        await settled(app, pilot)
        t = table(app)
        assert "modes" in column_keys(app)
        assert "trend" not in column_keys(app) and "owner" not in column_keys(app)
        assert t.virtual_size.width <= t.size.width  # nothing off the right edge
        assert t.get_cell("checkout:POST /pay", "modes").plain == "F1 8.8% timeouts"  # why
        assert keys(app)[0] == "checkout:POST /pay" and len(keys(app)) == 48
        await pilot.resize_terminal(140, 45)  # wide again: every column is back
        await pilot.pause()
        assert "trend" in column_keys(app) and "owner" in column_keys(app)
        assert t.get_cell("checkout:POST /pay", "owner").plain == "storefront"
        assert len(keys(app)) == 48


async def test_help_fits_a_narrow_screen_and_scrolls_to_its_end() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=NARROW) as pilot:
        await settled(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        box = app.screen.query_one("#help-box", VerticalScroll)
        assert box.region.right <= NARROW[0] and box.region.bottom <= NARROW[1]
        assert box.max_scroll_y > 0  # the rest is a scroll away, not cut
        box.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert box.scroll_y == box.max_scroll_y
