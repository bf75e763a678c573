"""The fleet table: a Line API widget that formats and paints only the rows on screen.

It looks and behaves like the Textual DataTable it replaced (cursor on whole rows, a fixed
header whose cells sort, mouse clicks, the theme's cursor colours), but a refresh of 1,000
rows costs what the ~40 rows on screen cost: each row's cells are formatted the first time
they are painted after their function changed (``fleetview.FnRow``), and each line is
cached until its cells, the cursor, the hover or the styles change. The DataTable
measured and restyled every row it held on every refresh (see README, Performance).

Rows are keyed by function id. Applying a view keeps the cursor on the same function at
the same place on screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.geometry import Size

from console.tui import cells as cell_fmt
from console.tui.cells import same
from console.tui.fleetview import COLUMNS, ID_INDEX, Column, RowSource, is_group, mid_clip
from console.tui.widgets.fleet_layout import layout
from console.tui.widgets.fleet_render import PAD
from console.tui.widgets.line_table import Cells, LineTable

__all__ = ["FleetTable", "layout"]

Row = tuple[str, RowSource]
#: Lines kept painted before the cache starts over (a screen is ~40; scrolling adds more).
LINE_CACHE = 2000


class FleetTable(LineTable):
    """One row per function; fixed column widths; cursor on whole rows."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._index: dict[str, int] = {}
        self._src: dict[str, RowSource] = {}
        #: key → (its source, its cells fitted to the shown columns).
        self._cells: dict[str, tuple[RowSource, Cells]] = {}
        self._style_key: tuple[str, ...] = ()
        self._changed = 0
        self.sort_key: str = "health"
        self.sort_reverse: bool = False
        #: Cells that changed in the last apply, on the rows on screen (tests, the bench).
        self.last_updates = 0
        #: Rows formatted since the table was made (tests: only painted rows are).
        self.formatted = 0
        #: The columns shown (all of COLUMNS when the screen is wide enough).
        self.shown_columns: tuple[Column, ...] = COLUMNS
        self._set_columns(COLUMNS)

    # -- the DataTable-like API the screen and tests use -------------------------------

    @property
    def row_keys(self) -> list[str]:
        """The row keys (function ids and group headers) in display order."""
        return list(self._order)

    @property
    def rows(self) -> Mapping[str, int]:
        """Row key → its index (``key in table.rows``)."""
        return self._index

    def get_row_index(self, key: str) -> int:
        return self._index[key]

    def get_row(self, key: str) -> list[Text]:
        """The cells of row ``key`` as shown (the shown columns, the id cut to fit)."""
        return list(self._row_cells(key))

    def get_cell(self, key: str, column: str) -> Text:
        keys = [c.key for c in self.shown_columns]
        return self._row_cells(key)[keys.index(column)]

    def header_label(self, column: str) -> Text:
        """The header of ``column`` as shown (with the sort arrow)."""
        return self._labels[[c.key for c in self.shown_columns].index(column)]

    @property
    def cursor_key(self) -> str | None:
        """The function id under the cursor, or None when the table is empty or the cursor
        is on a group-by-owner header."""
        key = self.row_key_at_cursor
        return None if is_group(key) else key

    def set_sort_indicator(self, key: str, reverse: bool) -> None:
        """Show which column sorts the table (the sorting itself happens in the view)."""
        self.sort_key, self.sort_reverse = key, reverse
        self._labels = tuple(self._label(c.key) for c in self.shown_columns)
        self._lines.clear()
        self.refresh()

    # -- columns -----------------------------------------------------------------------

    def _set_columns(self, cols: tuple[Column, ...]) -> None:
        keys = [c.key for c in COLUMNS]
        self.shown_columns = cols
        self._pick = tuple(keys.index(c.key) for c in cols)
        self._id_width = next(c.width for c in cols if c.key == "id")
        self._widths = tuple(c.width + 2 * PAD for c in cols)
        self._column_keys = tuple(c.key for c in cols)
        self._labels = tuple(self._label(c.key) for c in cols)
        self._cells.clear()
        self._lines.clear()

    def _label(self, key: str) -> Text:
        col = next(c for c in COLUMNS if c.key == key)
        label = Text(col.label, justify="right" if col.right else "left")
        if key == self.sort_key:
            arrow = "▼" if col.descending != self.sort_reverse else "▲"
            label = Text(f"{col.label} {arrow}", style="bold", justify=label.justify)
        return label

    def on_resize(self) -> None:
        """Too narrow for every column: give up the trend and owner, keep the modes."""
        want = layout(self.size.width) if self.size.width else COLUMNS
        if want != self.shown_columns:
            self._set_columns(want)
        self._size_to_rows()

    def _size_to_rows(self) -> None:
        self.virtual_size = Size(sum(self._widths), len(self._order) + 1)

    # -- data in -----------------------------------------------------------------------

    def apply(self, rows: Sequence[Row], *, resorted: bool = False) -> None:
        """Make the table show ``rows`` in this order; only rows on screen are formatted.

        A refresh keeps the selected function on its screen line. After a re-sort
        (``resorted``) with the selection on the first screen, the top of the new order
        is shown instead (the same function stays selected).
        """
        key = self.row_key_at_cursor
        screen_line = self._cursor - round(self.scroll_y)
        keep_top = resorted and round(self.scroll_y) == 0
        style_key = tuple(cell_fmt.SEVERITY_STYLE.values())
        if style_key != self._style_key:  # the theme changed the row colours
            self._style_key = style_key
            self._cells.clear()
        self._src = dict(rows)
        self._order = [k for k, _ in rows]
        self._index = {k: i for i, k in enumerate(self._order)}
        if len(self._cells) > 2 * len(self._src) + LINE_CACHE:
            self._cells = {k: v for k, v in self._cells.items() if k in self._src}
        if len(self._lines) > LINE_CACHE:
            self._lines.clear()
        self._size_to_rows()
        self._restore_cursor(key, screen_line, keep_top=keep_top)
        # Format the rows on screen now (painting would anyway): count what changed.
        self._changed = 0
        top = round(self.scroll_y)
        for k in self._order[top : top + max(0, self.size.height - 1)]:
            self._row_cells(k)
        self.last_updates = self._changed
        self.refresh()

    def _row_cells(self, key: str) -> Cells:
        src = self._src[key]
        cached = self._cells.get(key)
        if cached is not None and (cached[0] is src or _same_source(cached[0], src)):
            return cached[1]
        full = src if isinstance(src, tuple) else src.cells()
        self.formatted += 1
        fitted = tuple(self._fit(i, full[i]) for i in self._pick)
        if cached is not None:
            self._changed += sum(not same(a, b) for a, b in zip(cached[1], fitted, strict=True))
        self._cells[key] = (src, fitted)
        return fitted

    def _fit(self, i: int, cell: Text) -> Text:
        """The id cut to its column (narrowed on small screens) with ``…`` in the middle,
        keeping the operation; the other columns' cells already fit."""
        if i != ID_INDEX or len(cell) <= self._id_width:
            return cell
        return Text(mid_clip(cell.plain, self._id_width), style=cell.style)

    def _restore_cursor(self, key: str | None, screen_line: int, *, keep_top: bool) -> None:
        if not self._order:
            self._cursor = 0
            return
        if key is not None and key in self._index:
            row = self._index[key]
        else:
            row = min(self._cursor, len(self._order) - 1)
        if keep_top:
            # The top of the new order; the selection stays (off screen if it moved down).
            self.move_cursor(row=row, scroll=False)
            self.call_after_refresh(self.scroll_to, y=0, animate=False, immediate=True)
            return
        if row == self._cursor:
            return
        self.move_cursor(row=row, scroll=False)
        if 0 <= screen_line < self.size.height:
            # Keep the selected function on the same screen line it was on.
            target = max(0, row - screen_line)
            self.call_after_refresh(self.scroll_to, y=target, animate=False, immediate=True)


def _same_source(a: RowSource, b: RowSource) -> bool:
    """Whether two row sources format to the same cells without formatting them: the same
    function health (a snapshot's objects are new each refresh) or equal header cells."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (
            isinstance(a, tuple)
            and isinstance(b, tuple)
            and len(a) == len(b)
            and all(same(x, y) for x, y in zip(a, b, strict=True))
        )
    return a.same_as(b)
