"""One fleet-table line as segments, exactly as Textual's DataTable paints it, for less.

DataTable renders each cell through ``console.render_lines(Styled(Padding(cell, (0, 1)),
pre, post), options)``: about 0.2 ms a cell, 10 cells a line, every line again after any
change. A cell here is always a one-line ``rich.text.Text``, so the same segments come
from the Text's own renderer plus the padding and styles DataTable adds around it
(Textual 8.2.8, rich 14; ``tests/test_fleet_render.py`` compares the two line by line).
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


class CellStyles:
    """The styles DataTable puts around a cell: ``pre`` under it, ``post`` over it."""

    __slots__ = ("post", "pre")

    def __init__(self, pre: Style, post: Style) -> None:
        self.pre, self.post = pre, post


def cell_styles(row_style: Style, component: Style) -> CellStyles:
    """DataTable's ``_get_styles_to_render_cell`` with both cursor priorities "css" (its
    default): the component colours are laid over the cell's own."""
    post = Style.from_color(color=component.color) + Style.from_color(bgcolor=component.bgcolor)
    return CellStyles(row_style + component, post)


def _apply(segments: Sequence[Segment], pre: Style, post: Style) -> list[Segment]:
    # Segment.apply_style(segments, pre, post), as rich's Styled does.
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


def cell_segments(
    console: Console, options: ConsoleOptions, cell: Text, width: int, styles: CellStyles
) -> list[Segment]:
    """The segments of ``cell`` in a column ``width`` cells wide (padding included).

    ``options``: :func:`cell_options` for this column.
    """
    inner = width - 2 * PAD
    cell = cell or _EMPTY
    # Empty segments show nothing but would split a run of one style in two.
    body = [s for s in cell.__rich_console__(console, options) if s.text]
    lines = Segment.split_and_crop_lines(
        body, inner, style=_NULL, pad=True, include_new_lines=False
    )
    line = next(iter(lines), None) or [Segment(" " * inner, _NULL)]
    pad = Segment(" " * PAD, _NULL)
    return _apply([pad, *line, pad], styles.pre, styles.post)
