"""One fleet-table line as segments, exactly as Textual's DataTable paints it, for less.

DataTable renders each cell through ``console.render_lines(Styled(Padding(cell, (0, 1)),
pre, post), options)``: about 0.2 ms a cell, 10 cells a line, every line again after any
change. A cell here is always a one-line ``rich.text.Text``, so the same segments come
from the Text's own renderer plus the padding and styles DataTable adds around it
(Textual 8.2.8, rich 14; ``tests/tui/test_fleet_render.py`` compares the two line by line).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

__all__ = ["CellStyles", "cell_options", "cell_segments", "cell_styles"]

#: DataTable's cell padding (left and right of every cell).
PAD = 1
_NULL = Style.null()
#: What DataTable paints for an empty cell, whatever its style (``or _EMPTY_TEXT``).
_EMPTY = Text(no_wrap=True, end="")


#: Cells painted (their text, before the row's styles) kept for reuse: most cells repeat
#: from one refresh to the next ("—", "  ok", a tier, an unchanged number).
CELL_CACHE = 20_000
_painted: dict[tuple[object, ...], list[Segment]] = {}


class CellStyles:
    """The styles DataTable puts around a cell: ``pre`` under it, ``post`` over it."""

    __slots__ = ("post", "pre")

    def __init__(self, pre: Style, post: Style) -> None:
        self.pre, self.post = pre, post


def component_post(component: Style) -> Style:
    """DataTable's post style for a row's component style, both cursor priorities "css"
    (its default): the component colours are laid over the cell's own."""
    return Style.from_color(color=component.color) + Style.from_color(bgcolor=component.bgcolor)


def cell_styles(row_style: Style, component: Style, post: Style | None = None) -> CellStyles:
    """DataTable's ``_get_styles_to_render_cell`` (``post``: :func:`component_post`)."""
    return CellStyles(row_style + component, component_post(component) if post is None else post)


def _apply(segments: Sequence[Segment], pre: Style, post: Style) -> list[Segment]:
    # Segment.apply_style(segments, pre, post), as Textual's Styled does.
    out = []
    for text, style, _control in segments:
        s = pre + style if pre else style
        s = (s + post if s else post) if post else s
        out.append(Segment(text, s))
    return out


def cell_options(base: ConsoleOptions, width: int) -> ConsoleOptions:
    """The options DataTable renders a one-line cell's text with (inside its padding)."""
    outer = base.update_dimensions(width, 1).update(no_wrap=True)
    return outer.update_width(width - 2 * PAD).update_height(1)


def _painted_text(
    console: Console, options: ConsoleOptions, cell: Text, width: int
) -> list[Segment]:
    """The cell's own segments with its padding, before the row's styles (cached on what
    the cell shows)."""
    key = (cell.plain, cell.style, tuple(cell.spans), cell.justify, cell.overflow,
           cell.no_wrap, cell.end, width)  # fmt: skip
    hit = _painted.get(key)
    if hit is not None:
        return hit
    inner = width - 2 * PAD
    cell = cell or _EMPTY
    # Empty segments show nothing but would split a run of one style in two.
    body = [s for s in cell.__rich_console__(console, options) if s.text]
    lines = Segment.split_and_crop_lines(
        body, inner, style=_NULL, pad=True, include_new_lines=False
    )
    line = next(iter(lines), None) or [Segment(" " * inner, _NULL)]
    pad = Segment(" " * PAD, _NULL)
    if len(_painted) >= CELL_CACHE:
        _painted.clear()
    out = _painted[key] = [pad, *line, pad]
    return out


def cell_segments(
    console: Console, options: ConsoleOptions, cell: Text, width: int, styles: CellStyles
) -> list[Segment]:
    """The segments of ``cell`` in a column ``width`` cells wide (padding included).

    ``options``: :func:`cell_options` for this column.
    """
    return _apply(_painted_text(console, options, cell, width), styles.pre, styles.post)
