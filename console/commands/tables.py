"""CLI tables that fit the terminal: one line per row, low-priority columns dropped first.

The width is ``COLUMNS`` when set, the terminal's when stdout is one, else 80 (piped into
``less``, ``grep`` or a file, a table still reads in an 80-column window). Columns say how
they may give way: a ``keep`` column is never dropped (errors, trace id, findings); an
``id`` column is cut in the middle with ``…`` and a function id keeps its operation; a
``text`` column is cut at the end; a column may carry a compact alternative (a time
without its date) used before anything is dropped.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from rich import box
from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["Column", "cut_end", "cut_function_id", "cut_middle", "fit_widths", "output_width"]

#: Below this a table cannot be read anyway; narrower terminals get lines this long.
MIN_WIDTH = 40
#: Columns separated by one space of box and one of padding on each side (no outer edge).
GAP = 3


def output_width(stream: Any = None) -> int:
    """The width CLI output is laid out for: ``COLUMNS``, else the terminal, else 80."""
    raw = os.environ.get("COLUMNS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return max(MIN_WIDTH, int(raw))
    out = sys.stdout if stream is None else stream
    try:
        if out.isatty():
            return max(MIN_WIDTH, os.get_terminal_size(out.fileno()).columns)
    except (AttributeError, OSError, ValueError):
        pass
    return 80


def console(width: int | None = None) -> Console:
    """A rich console laid out at :func:`output_width` (never wider)."""
    # a height too: with a width alone rich lays a TERM=dumb terminal out at 80 columns
    return Console(highlight=False, width=width or output_width(), height=25, soft_wrap=False)


def cut_end(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, ending in ``…`` when cut."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    return set_cell_size(text, width - 1) + "…"


def cut_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, its middle replaced by ``…`` when cut (both ends
    of an id are what a reader matches)."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    head = width // 2
    tail = width - 1 - head
    # by cells, not characters: a wide character counts two (reversed to measure the tail)
    end = set_cell_size(text[::-1], tail)[::-1] if tail else ""
    return set_cell_size(text, head) + "…" + end


def cut_function_id(fid: str, width: int) -> str:
    """A ``service:operation`` id in ``width`` cells: the service is cut first, so the
    operation (what tells two functions of one service apart) stays whole if it can."""
    if cell_len(fid) <= width:
        return fid
    service, sep, operation = fid.partition(":")
    if not sep:
        return cut_middle(fid, width)
    room = width - cell_len(operation) - 1  # cells left for the service
    if room >= 2:
        return cut_middle(service, room) + ":" + operation
    return "…:" + cut_middle(operation, max(1, width - 2)) if width > 3 else cut_middle(fid, width)


Cut = Literal["fixed", "id", "function", "text"]


@dataclass
class Column:
    """One column: its cells, how it gives way and how much it matters.

    ``priority``: lower matters more; ``keep`` columns are never dropped. ``minimum`` is the
    narrowest a cut column goes. ``compact`` holds shorter cells used when the full ones do
    not fit (same order as ``cells``).
    """

    header: str
    cells: list[str | Text]
    priority: int = 0
    keep: bool = False
    cut: Cut = "fixed"
    minimum: int = 8
    justify: Literal["left", "right"] = "left"
    compact: list[str] | None = None
    compact_header: str | None = None
    width: int = field(default=0, init=False)
    use_compact: bool = field(default=False, init=False)

    def natural(self, compact: bool = False) -> int:
        if compact and self.compact is not None:
            return max([cell_len(self.compact_header or self.header), *map(_len, self.compact)])
        return max([cell_len(self.header), *(_len(c) for c in self.cells)])

    def floor(self) -> int:
        if self.cut == "fixed":
            return self.natural(self.compact is not None)
        return max(min(self.minimum, self.natural()), cell_len(self.header), 1)


def _len(cell: str | Text) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


def fit_widths(columns: Sequence[Column], width: int) -> list[Column]:
    """The columns shown in ``width`` cells, each with its ``width`` set.

    Order of giving way: compact forms, then cut columns down to their minimum, then the
    lowest-priority non-``keep`` column dropped (and again); leftover space goes back to
    cut columns.
    """
    shown = list(columns)
    for c in shown:
        c.use_compact = False
        c.width = c.natural()

    def total() -> int:
        return sum(c.width for c in shown) + GAP * (len(shown) - 1)

    if total() <= width:
        return shown
    for c in shown:
        if c.compact is not None:
            c.use_compact = True
            c.width = c.natural(True)
    while True:
        for c in shown:
            if c.cut != "fixed":
                c.width = c.floor()
        if total() <= width:
            break
        droppable = [c for c in shown if not c.keep]
        if not droppable:
            break
        shown.remove(max(droppable, key=lambda c: c.priority))
    cuttable = [c for c in shown if c.cut != "fixed"]
    while total() > width:  # narrower than every minimum: the widest cut column gives way
        widest = max(cuttable, key=lambda c: c.width, default=None)
        if widest is None or widest.width <= max(cell_len(widest.header), 4):
            break
        widest.width -= 1
    spare = width - total()
    for c in sorted((c for c in shown if c.cut != "fixed"), key=lambda c: c.priority):
        grow = min(max(spare, 0), c.natural() - c.width)
        c.width += grow
        spare -= grow
    for c in shown:  # space left after the cut columns: undo compact forms that now fit
        if c.use_compact and c.natural() - c.width <= spare:
            spare -= c.natural() - c.width
            c.use_compact, c.width = False, c.natural()
    return shown


def _cell(c: Column, i: int) -> str | Text:
    cell: str | Text = c.compact[i] if c.use_compact and c.compact is not None else c.cells[i]
    if _len(cell) <= c.width:
        return cell
    cutter = {"id": cut_middle, "function": cut_function_id}.get(c.cut, cut_end)
    if not isinstance(cell, Text):
        return cutter(cell, c.width)
    if cutter is cut_end:  # keeps each span's style (badges of several colours)
        short = cell.copy()
        short.truncate(c.width, overflow="ellipsis")
        return short
    return Text(cutter(cell.plain, c.width), style=cell.style)


def fitted_table(columns: Sequence[Column], width: int) -> Table:
    """A rich table of ``columns`` no line of which is longer than ``width``."""
    shown = fit_widths(columns, width)
    table = Table(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold", expand=False
    )
    for c in shown:
        header = c.compact_header if c.use_compact and c.compact_header else c.header
        table.add_column(
            header, width=c.width, no_wrap=True, overflow="ellipsis", justify=c.justify
        )
    rows = len(columns[0].cells) if columns else 0
    for i in range(rows):
        table.add_row(*(_cell(c, i) for c in shown))
    return table
