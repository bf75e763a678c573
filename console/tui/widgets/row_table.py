"""A row-cursor DataTable where Home and End go to the first and last row.

DataTable maps Home/End to its leftmost/rightmost column, which a row cursor never needs.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.widgets import DataTable

__all__ = ["RowTable"]

CellType = TypeVar("CellType")


class RowTable(DataTable[CellType]):
    """Home: the first row; End: the last row (ctrl+home / ctrl+end still work)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", "First row", show=False),
        Binding("end", "scroll_bottom", "Last row", show=False),
    ]
