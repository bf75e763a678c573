"""Which fleet columns fit a width: the badges stay, low-priority columns go first."""

from __future__ import annotations

from dataclasses import replace

from console.tui.fleetview import COLUMNS, ID_INDEX, Column

__all__ = ["DROPPABLE", "LAST_RESORT", "MIN_ID_WIDTH", "layout"]

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
