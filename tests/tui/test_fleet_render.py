"""The fleet table paints exactly what Textual's DataTable painted for the same rows.

The Line API table replaced a DataTable (README, Performance); this keeps its look: the
same characters in the same styles, line by line — header, plain rows, the cursor row
(focused and not) and the rows of a narrow layout with the id cut in the middle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable

from console.tui.app import CallboardApp
from console.tui.fleetview import ViewOptions, build_rows
from console.tui.widgets.fleet_table import FleetTable
from tests.tui.test_tui import settled
from tests.tui_helpers import fake_fleet

TCSS = Path(__file__).parents[2] / "console" / "tui" / "callboard.tcss"


class Reference(App[None]):
    """The old fleet table: a row-cursor DataTable with the fleet's fixed columns."""

    AUTO_FOCUS = None
    # The fleet table's own rules from the app's stylesheet.
    CSS = "\n".join(r for r in TCSS.read_text().split("\n\n") if r.startswith("#fleet-table"))

    def __init__(self, table: FleetTable, focused: bool) -> None:
        super().__init__()
        self.columns = [(c.key, table.header_label(c.key), w - 2) for c, w in
                        zip(table.shown_columns, table._widths, strict=True)]  # fmt: skip
        self.rows = [(k, table.get_row(k)) for k in table.row_keys]
        self.cursor, self.focused_ = table.cursor_row, focused

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row", zebra_stripes=False, id="fleet-table")

    def on_mount(self) -> None:
        t: DataTable[Any] = self.query_one(DataTable)
        for key, label, width in self.columns:
            t.add_column(label, width=width, key=key)
        for key, cells in self.rows:
            t.add_row(*cells, key=key)
        t.move_cursor(row=self.cursor, scroll=False)
        if self.focused_:
            t.focus()


def lines(widget: Widget) -> list[list[tuple[str, Any]]]:
    """Each line as (character, style) pairs: independent of how segments are split."""
    region = Region(0, 0, widget.size.width, widget.size.height)
    out = []
    for strip in widget.render_lines(region):
        assert isinstance(strip, Strip)
        out.append([(ch, _plain(seg)) for seg in strip for ch in seg.text])
    return out


def _plain(seg: Segment) -> Any:
    return seg.style


async def _reference_lines(table: FleetTable, size: tuple[int, int], focused: bool) -> Any:
    ref = Reference(table, focused)
    async with ref.run_test(size=size) as pilot:
        await pilot.pause()
        return lines(ref.query_one(DataTable))


@pytest.mark.parametrize(
    ("width", "focused", "keys"),
    [(140, True, ()), (140, False, ()), (80, True, ()), (140, True, ("g",))],
)
async def test_the_fleet_table_paints_like_the_datatable_it_replaced(
    width: int, focused: bool, keys: tuple[str, ...]
) -> None:
    app = CallboardApp(fake_fleet(40), refresh_interval=3600)
    size = (width, 30)
    async with app.run_test(size=size) as pilot:
        await settled(app, pilot)
        await pilot.press(*keys, "down", "down")
        table = app.screen.query_one(FleetTable)
        if not focused:
            app.screen.set_focus(None)
        await pilot.pause()
        assert table.cursor_row >= 2  # not the first line: the cursor row moved
        ours = lines(table)
        region = table.region
    reference = await _reference_lines(table, (region.width, region.height), focused)
    assert len(ours) == len(reference)
    for y, (a, b) in enumerate(zip(ours, reference, strict=True)):
        assert a == b, f"line {y} differs"


def test_the_view_formats_rows_only_when_asked() -> None:
    fleet = fake_fleet(5)
    import asyncio

    snap = asyncio.run(fleet.refresh())
    view = build_rows(snap, ViewOptions())
    assert len(view.entries) == 5 and all(not isinstance(s, tuple) for _, s in view.entries)
    assert [k for k, _ in view.rows] == [k for k, _ in view.entries]
