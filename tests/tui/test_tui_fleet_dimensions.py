"""Pilot: the fleet table's scrollable size comes from its fixed column widths without
measuring cells and is what Textual's DataTable computed (every column's width plus its
padding, a line per row plus the header):
``end`` scrolls to the last of 1,000 rows and it is on screen, at 140×45 and 80×24.
"""

from __future__ import annotations

import pytest
from textual.geometry import Size

from console.tui.app import CallboardApp
from console.tui.widgets.fleet_table import FleetTable
from tests.tui_helpers import demo_fleet


@pytest.mark.parametrize("size", [(140, 45), (80, 24)])
async def test_end_shows_the_last_of_1000_rows(size: tuple[int, int]) -> None:
    app = CallboardApp(demo_fleet(1000), refresh_interval=3600)
    async with app.run_test(size=size) as pilot:
        table = app.screen_stack[0].query_one(FleetTable)
        for _ in range(50):  # bounded: the first refresh fills the table
            await app.workers.wait_for_complete()
            await pilot.pause()
            if table.row_count >= 1000:
                break
        assert table.row_count >= 1000
        fast = table.virtual_size
        widths = sum(c.width + 2 for c in table.shown_columns)  # DataTable: width + padding
        assert fast == Size(widths, table.row_count + table.header_height)
        assert fast.height == table.row_count + table.header_height

        table.focus()
        await pilot.press("end")
        await pilot.pause()
        last = table.row_count - 1
        assert table.cursor_row == last
        assert table.scroll_y == table.max_scroll_y > 0
        # The last row lies inside the visible window below the header.
        assert table.scroll_y <= last < table.scroll_y + table.size.height - table.header_height
