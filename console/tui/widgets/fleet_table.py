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
from typing import ClassVar

from rich.console import ConsoleOptions
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.tui import cells as cell_fmt
from console.tui.cells import same
from console.tui.fleetview import COLUMNS, ID_INDEX, Column, RowSource, is_group, mid_clip
from console.tui.widgets.fleet_layout import layout
from console.tui.widgets.fleet_render import PAD, cell_options, cell_segments, cell_styles

__all__ = ["FleetTable", "layout"]

Row = tuple[str, RowSource]
Cells = tuple[Text, ...]
#: Lines kept painted before the cache starts over (a screen is ~40; scrolling adds more).
LINE_CACHE = 2000


class FleetTable(ScrollView, can_focus=True):
    """One row per function; fixed column widths; cursor on whole rows."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open"),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,ctrl+home", "scroll_top", "First row", show=False),
        Binding("end,ctrl+end,G", "scroll_bottom", "Last row", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "datatable--header",
        "datatable--cursor",
        "datatable--hover",
        "datatable--header-hover",
        "datatable--header-cursor",
    }

    # DataTable's own rules for the parts this table has (Textual 8.2.8).
    DEFAULT_CSS = """
    FleetTable {
        background: $surface;
        color: $foreground;
        &:focus {
            background-tint: $foreground 5%;
            & > .datatable--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .datatable--header {
                background-tint: $foreground 5%;
            }
        }
        & > .datatable--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .datatable--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .datatable--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        & > .datatable--header-cursor {
            background: $accent-darken-1;
            color: $foreground;
        }
        & > .datatable--header-hover {
            background: $accent 30%;
        }
        & > .datatable--hover {
            background: $block-hover-background;
        }
    }
    """

    class RowSelected(Message):
        """Enter on a row, or a click on the row already under the cursor."""

        def __init__(self, table: FleetTable, row_key: str, cursor_row: int) -> None:
            super().__init__()
            self.table, self.row_key, self.cursor_row = table, row_key, cursor_row

        @property
        def control(self) -> FleetTable:
            return self.table

    class HeaderSelected(Message):
        """A click on a column's header."""

        def __init__(self, table: FleetTable, column_key: str) -> None:
            super().__init__()
            self.table, self.column_key = table, column_key

        @property
        def control(self) -> FleetTable:
            return self.table

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._order: list[str] = []
        self._index: dict[str, int] = {}
        self._src: dict[str, RowSource] = {}
        #: key → (its source, its cells fitted to the shown columns).
        self._cells: dict[str, tuple[RowSource, Cells]] = {}
        self._lines: dict[tuple[object, ...], tuple[Cells, Strip]] = {}
        self._meta: dict[tuple[int, int], Style] = {}
        self._style_key: tuple[str, ...] = ()
        self._changed = 0
        self._cursor = 0
        self._hover: int | None = None
        self.show_cursor = True
        self.sort_key: str = "health"
        self.sort_reverse: bool = False
        #: Cells that changed in the last apply, on the rows on screen (tests, the bench).
        self.last_updates = 0
        #: The columns shown (all of COLUMNS when the screen is wide enough).
        self.shown_columns: tuple[Column, ...] = COLUMNS
        self._set_columns(COLUMNS)

    # -- the DataTable-like API the screen and tests use -------------------------------

    #: One header line (DataTable's name for it).
    header_height = 1

    @property
    def row_count(self) -> int:
        return len(self._order)

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
    def cursor_row(self) -> int:
        return self._cursor

    @cursor_row.setter
    def cursor_row(self, row: int) -> None:
        row = max(0, min(row, len(self._order) - 1))
        if row != self._cursor:
            # As DataTable's cursor watcher: a moved cursor is scrolled onto the screen.
            self._cursor = row
            self._scroll_cursor_into_view()
            self.refresh()

    def move_cursor(self, *, row: int | None = None, scroll: bool = True) -> None:
        """Put the cursor on ``row``, on screen (``scroll``: even when it did not move)."""
        if scroll:
            self._scroll_cursor_into_view(row)
        if row is not None:
            self.cursor_row = row

    @property
    def cursor_key(self) -> str | None:
        """The function id under the cursor, or None when the table is empty or the cursor
        is on a group-by-owner header."""
        key = self.row_key_at_cursor
        return None if is_group(key) else key

    @property
    def row_key_at_cursor(self) -> str | None:
        """The row key under the cursor (a function id or a group header's key)."""
        if not self._order or not 0 <= self._cursor < len(self._order):
            return None
        return self._order[self._cursor]

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
        self._labels = tuple(self._label(c.key) for c in cols)
        self._options: dict[int, ConsoleOptions] = {}
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

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()

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

    # -- painting ----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        base = self.rich_style
        if y == 0:
            row, key, cells = -1, "", self._labels
        else:
            row = y - 1 + scroll_y
            if row >= len(self._order):
                return Strip.blank(width, base)
            key = self._order[row]
            cells = self._row_cells(key)
        cursor = row == self._cursor and self.show_cursor
        hover = self._hover == row
        line_key = (key, row, cursor, hover, base, self.has_focus, width, scroll_x)
        hit = self._lines.get(line_key)
        if hit is not None and hit[0] is cells:
            return hit[1]
        segments = self._segments(row, cells, base, cursor=cursor, hover=hover)
        strip = Strip(segments).crop(scroll_x, scroll_x + width)
        strip = strip.adjust_cell_length(width, base).simplify()
        self._lines[line_key] = (cells, strip)
        return strip

    def _segments(
        self, row: int, cells: Cells, base: Style, *, cursor: bool, hover: bool
    ) -> list[Segment]:
        """One row's segments, as DataTable's ``_render_line_in_row`` makes them."""
        get = self.get_component_rich_style
        header = row == -1
        row_style = self.get_component_styles("datatable--header").rich_style if header else base
        component = Style()
        if hover:
            component += get("datatable--hover")
            if header:
                component += get("datatable--header-hover")
        if cursor:
            component += get("datatable--cursor")
        console = self.app.console
        out: list[Segment] = []
        for col, (cell, width) in enumerate(zip(cells, self._widths, strict=True)):
            styles = cell_styles(row_style + self._meta_style(row, col), component)
            out += cell_segments(console, self._cell_options(width), cell, width, styles)
        rest = max(0, self.size.width - sum(self._widths))
        extend = (
            row_style
            + component
            + Style.from_meta({"row": row, "column": 0, "out_of_bounds": True})
        )
        out.append(Segment(" " * rest, extend))
        return out

    def _meta_style(self, row: int, col: int) -> Style:
        style = self._meta.get((row, col))
        if style is None:
            style = self._meta[(row, col)] = Style.from_meta({"row": row, "column": col})
        return style

    def _cell_options(self, width: int) -> ConsoleOptions:
        opts = self._options.get(width)
        if opts is None:
            opts = self._options[width] = cell_options(self.app.console_options, width)
        return opts

    # -- keys and mouse ----------------------------------------------------------------

    def _scroll_cursor_into_view(self, row: int | None = None) -> None:
        """Scroll as little as puts ``row`` (the cursor's) below the header."""
        row = self._cursor if row is None else row
        rows = max(1, self.scrollable_content_region.height - 1)
        top = round(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False, force=True, immediate=True)
        elif row >= top + rows:
            self.scroll_to(y=row - rows + 1, animate=False, force=True, immediate=True)

    def _move(self, row: int) -> None:
        self._hover = None
        self.cursor_row = row

    def action_cursor_up(self) -> None:
        self._move(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self._move(self._cursor + 1)

    def action_page_up(self) -> None:
        page = max(1, self.scrollable_content_region.height - 1)
        self.scroll_relative(y=-page, animate=False, force=True, immediate=True)
        self._move(self._cursor - page)

    def action_page_down(self) -> None:
        page = max(1, self.scrollable_content_region.height - 1)
        self.scroll_relative(y=page, animate=False, force=True, immediate=True)
        self._move(self._cursor + page)

    def action_scroll_top(self) -> None:
        self._move(0)

    def action_scroll_bottom(self) -> None:
        self._move(len(self._order) - 1)

    def action_select_cursor(self) -> None:
        key = self.row_key_at_cursor
        if key is not None:
            self.post_message(self.RowSelected(self, key, self._cursor))

    def _row_at(self, event: events.MouseEvent) -> tuple[int, int] | None:
        """(row, x in the table) under the mouse; row -1 is the header."""
        offset = event.get_content_offset(self)
        if offset is None:
            return None
        row = -1 if offset.y == 0 else offset.y - 1 + round(self.scroll_y)
        return row, offset.x + round(self.scroll_x)

    def on_click(self, event: events.Click) -> None:
        at = self._row_at(event)
        if at is None:
            return
        row, x = at
        if row == -1:
            for col, width in zip(self.shown_columns, self._widths, strict=True):
                if x < width:
                    self.post_message(self.HeaderSelected(self, col.key))
                    return
                x -= width
            return
        if row >= len(self._order):
            return
        again = row == self._cursor
        self.cursor_row = row
        if again:
            self.action_select_cursor()
        event.stop()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        at = self._row_at(event)
        hover = None if at is None else at[0]
        if hover != self._hover:
            self._hover = hover
            self.refresh()

    def on_leave(self, _event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()


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
