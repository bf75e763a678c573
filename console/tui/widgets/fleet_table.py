"""The fleet table: a keyed DataTable that applies each view as a diff.

Rows are keyed by function id. Applying a view updates only the cells that changed, adds
and removes only the rows that came or went, reorders once, and puts the cursor back on the
same function at the same place on screen. It never rebuilds the table for a refresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.widgets.data_table import ColumnKey, RowKey

from console.tui.cells import same
from console.tui.fleetview import COLUMNS, ID_INDEX, Column, is_group, mid_clip
from console.tui.widgets.row_table import RowTable

Row = tuple[str, tuple[Text, ...]]

#: Columns given up, in this order, when the table is too narrow for all of them (the
#: F-code badges of the modes column must stay on screen): first these two, then the id
#: narrows, then LAST_RESORT goes too (80 columns).
DROPPABLE = ("trend", "owner")
LAST_RESORT = ("tier", "p99", "traffic")
#: The function id column never gets narrower than this.
MIN_ID_WIDTH = 20


def layout(width: int) -> tuple[Column, ...]:
    """The columns that fit ``width`` cells (each column has 2 cells of padding; 1 cell
    of scrollbar): drop the trend, then the owner, then narrow the function id, then
    drop tier, p99 and traffic; the id takes back whatever room that leaves."""
    cols = list(COLUMNS)

    def need() -> int:
        return sum(c.width + 2 for c in cols) + 1

    for key in DROPPABLE:
        if need() <= width:
            break
        cols = [c for c in cols if c.key != key]
    i = next(i for i, c in enumerate(cols) if c.key == "id")
    if need() > width:
        cols[i] = replace(cols[i], width=max(MIN_ID_WIDTH, cols[i].width - (need() - width)))
    for key in LAST_RESORT:
        if need() <= width:
            break
        cols = [c for c in cols if c.key != key]
        i = next(i for i, c in enumerate(cols) if c.key == "id")
        room = width - need()
        if room > 0:
            full = COLUMNS[ID_INDEX].width
            cols[i] = replace(cols[i], width=min(full, cols[i].width + room))
    return tuple(cols)


class FleetTable(RowTable[Text]):
    """One row per function; fixed column widths; cursor on whole rows."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self._shown: dict[str, tuple[Text, ...]] = {}
        self._order: list[str] = []
        self.sort_key: str = "health"
        self.sort_reverse: bool = False
        #: Cell updates in the last apply (for tests and the bench).
        self.last_updates = 0
        #: The columns shown (all of COLUMNS when the screen is wide enough).
        self.shown_columns: tuple[Column, ...] = COLUMNS
        self._pick: tuple[int, ...] = tuple(range(len(COLUMNS)))
        self._id_width = COLUMNS[ID_INDEX].width

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        keys = [c.key for c in COLUMNS]
        self._pick = tuple(keys.index(c.key) for c in self.shown_columns)
        self._id_width = next(c.width for c in self.shown_columns if c.key == "id")
        for col in self.shown_columns:
            self.add_column(self._label(col.key), width=col.width, key=col.key)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """The virtual size from the fixed column widths and the row heights.

        DataTable measures every cell of every new row to grow auto-width columns; every
        column here has a fixed width, so those measurements change nothing and cost most
        of a filter's UI time at 1,000 rows. Any auto-width column, row label or auto-height
        row (none today) falls back to Textual's full method (a private one: checked
        against Textual 8.2.8).
        """
        rows = list(new_rows)
        if any(c.auto_width for c in self.columns.values()) or any(
            (row := self.rows.get(k)) is not None and (row.label is not None or row.auto_height)
            for k in rows
        ):
            super()._update_dimensions(rows)
            return
        width = sum(c.get_render_width(self) for c in self.columns.values())
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(
            width + self._row_label_column_width, self._total_row_height + header
        )

    def on_resize(self) -> None:
        """Too narrow for every column: give up the trend and owner, keep the modes."""
        want = layout(self.size.width) if self.size.width else COLUMNS
        if want == self.shown_columns:
            return
        key = self.row_key_at_cursor
        rows = [(k, self._shown[k]) for k in self._order if k in self._shown]
        self.shown_columns = want
        self.clear(columns=True)
        self._shown, self._order = {}, []
        self._add_columns()
        self.apply(rows)
        if key is not None and key in self._shown:
            self.move_cursor(row=self._order.index(key))

    def _cells(self, row: Sequence[Text]) -> list[Text]:
        return [self._fit(i, row[i]) for i in self._pick]

    def _fit(self, i: int, cell: Text) -> Text:
        """The id cut to its column (narrowed on small screens) with ``…`` in the middle,
        keeping the operation; the other columns' cells already fit."""
        if i != ID_INDEX or len(cell) <= self._id_width:
            return cell
        return Text(mid_clip(cell.plain, self._id_width), style=cell.style)

    def _label(self, key: str) -> Text:
        col = next(c for c in COLUMNS if c.key == key)
        label = Text(col.label, justify="right" if col.right else "left")
        if key == self.sort_key:
            arrow = "▼" if col.descending != self.sort_reverse else "▲"
            label = Text(f"{col.label} {arrow}", style="bold", justify=label.justify)
        return label

    def set_sort_indicator(self, key: str, reverse: bool) -> None:
        """Show which column sorts the table (the sorting itself happens in the view)."""
        self.sort_key, self.sort_reverse = key, reverse
        for col_key, column in self.columns.items():
            column.label = self._label(str(col_key.value))
        self._update_count += 1
        self.refresh()

    @property
    def cursor_key(self) -> str | None:
        """The function id under the cursor, or None when the table is empty or the cursor
        is on a group-by-owner header."""
        key = self.row_key_at_cursor
        return None if is_group(key) else key

    @property
    def row_key_at_cursor(self) -> str | None:
        """The row key under the cursor (a function id or a group header's key)."""
        if not self._order or not 0 <= self.cursor_row < len(self._order):
            return None
        return self._order[self.cursor_row]

    def apply(self, rows: Sequence[Row], *, resorted: bool = False) -> None:
        """Make the table show ``rows`` in this order, touching only what changed.

        A refresh keeps the selected function on its screen line. After a re-sort
        (``resorted``) with the selection on the first screen, the top of the new order
        is shown instead (the same function stays selected).
        """
        key = self.row_key_at_cursor
        screen_line = self.cursor_row - round(self.scroll_y)
        keep_top = resorted and round(self.scroll_y) == 0
        want = dict(rows)
        new_order = [k for k, _ in rows]
        updates = 0
        with self.app.batch_update():
            stale = self._shown.keys() - want.keys()
            if stale and (len(stale) > 200 or len(stale) > len(want) // 2):
                # Removing is O(rows) per row: past a few hundred, starting over is cheaper.
                self.clear()
                self._shown = {}
            else:
                for k in stale:
                    self.remove_row(k)
                    del self._shown[k]
            shown = self._shown
            for k, new in rows:
                old = shown.get(k)
                if old is None:
                    self.add_row(*self._cells(new), key=k)
                    shown[k] = new
                    continue
                merged = list(old)
                for i, (o, n) in enumerate(zip(old, new, strict=True)):
                    if not same(o, n):
                        merged[i] = n
                        updates += 1
                if merged != list(old):
                    self._write_row(k, merged)
                shown[k] = tuple(merged)
            if [str(r.key.value) for r in self.ordered_rows] != new_order:
                # the id cells as the table holds them (cut to the column: new objects)
                id_col = ColumnKey(COLUMNS[ID_INDEX].key)
                rank = {id(self._data[RowKey(k)][id_col]): i for i, k in enumerate(new_order)}
                self.sort(COLUMNS[ID_INDEX].key, key=lambda cell: rank[id(cell)])
            if updates:
                self._update_count += 1  # invalidates the render caches once, not per cell
                self.refresh()
            self._order = new_order
            self.last_updates = updates
            self._restore_cursor(key, screen_line, keep_top=keep_top)

    def _write_row(self, key: str, cells: list[Text]) -> None:
        """``update_cell`` for a whole row, without its per-call ``refresh()``.

        ``update_cell`` costs ~10 µs a call in ``refresh()`` alone; a refresh of 1,000 rows
        changes ~3,500 cells. This writes the same dict update_cell writes (Textual 8.2.8,
        pinned) and ``apply`` invalidates once. Column widths are fixed, so nothing is
        re-measured either way.
        """
        row = self._data[RowKey(key)]
        for i in self._pick:
            row[ColumnKey(COLUMNS[i].key)] = self._fit(i, cells[i])

    def _restore_cursor(self, key: str | None, screen_line: int, *, keep_top: bool) -> None:
        if not self._order:
            return
        if key is not None and key in self._shown:
            row = self._order.index(key)
        else:
            row = min(self.cursor_row, len(self._order) - 1)
        if keep_top:
            # The top of the new order; the selection stays (off screen if it moved down).
            self.move_cursor(row=row, scroll=False)
            self.call_after_refresh(self.scroll_to, y=0, animate=False, immediate=True)
            return
        if row == self.cursor_row:
            return
        self.move_cursor(row=row, scroll=False)
        if 0 <= screen_line < self.size.height:
            # Keep the selected function on the same screen line it was on.
            target = max(0, row - screen_line)
            self.call_after_refresh(self.scroll_to, y=target, animate=False, immediate=True)
