"""A table on Textual's Line API that paints like DataTable: a row cursor, a fixed header.

Only the lines on screen are painted, each cached until its cells, the cursor, the hover
or the styles change. A subclass says what the rows are: ``_order`` (row keys, in
order), ``_row_cells(key)`` (one ``Text`` per column), ``_labels``, ``_column_keys`` and
``_widths`` (column widths with their padding). Keys, mouse and look follow DataTable's
(Textual 8.2.8): ``tests/tui/test_fleet_render.py`` compares the two line by line.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import ConsoleOptions
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.tui.widgets.fleet_render import (
    cell_options,
    cell_segments,
    cell_styles,
    component_post,
)

__all__ = ["Cells", "LineTable"]

Cells = tuple[Text, ...]


class LineTable(ScrollView, can_focus=True):
    """Rows of one line each, a header line on top, a cursor on whole rows."""

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
    LineTable {
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

        def __init__(self, table: LineTable, row_key: str, cursor_row: int) -> None:
            super().__init__()
            self.table, self.row_key, self.cursor_row = table, row_key, cursor_row

        @property
        def control(self) -> LineTable:
            return self.table

    class HeaderSelected(Message):
        """A click on a column's header."""

        def __init__(self, table: LineTable, column_key: str) -> None:
            super().__init__()
            self.table, self.column_key = table, column_key

        @property
        def control(self) -> LineTable:
            return self.table

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._order: list[str] = []
        self._labels: Cells = ()
        self._column_keys: tuple[str, ...] = ()
        self._widths: tuple[int, ...] = ()
        self._lines: dict[tuple[object, ...], tuple[Cells, Strip]] = {}
        self._meta: dict[tuple[int, int], Style] = {}
        self._options: dict[int, ConsoleOptions] = {}
        self._cursor = 0
        self._hover: int | None = None
        self.show_cursor = True

    #: One header line (DataTable's name for it).
    header_height = 1

    def _row_cells(self, key: str) -> Cells:
        """Row ``key``'s cells, one per column."""
        raise NotImplementedError

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def row_key_at_cursor(self) -> str | None:
        """The row key under the cursor."""
        if not self._order or not 0 <= self._cursor < len(self._order):
            return None
        return self._order[self._cursor]

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

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()

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
        post = component_post(component)
        out: list[Segment] = []
        for col, (cell, width) in enumerate(zip(cells, self._widths, strict=True)):
            styles = cell_styles(row_style + self._meta_style(row, col), component, post)
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
            for col, width in zip(self._column_keys, self._widths, strict=True):
                if x < width:
                    self.post_message(self.HeaderSelected(self, col))
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
