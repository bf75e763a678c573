"""The drill's scorecard, shown when the drill ends (mitigation verified, or ``q``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["ScorecardScreen"]


class ScorecardScreen(ModalScreen[None]):
    """The scorecard's rows; any of enter, escape or q closes it (and the drill)."""

    DEFAULT_CSS = """
    ScorecardScreen { align: center middle; }
    ScorecardScreen > Vertical {
        width: 90; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    ScorecardScreen Static { width: 100%; height: auto; }
    ScorecardScreen #scorecard-head { text-style: bold; margin-bottom: 1; }
    ScorecardScreen #scorecard-foot { margin-top: 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "close", "Close"),
        Binding("escape", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, head: str, rows: Sequence[tuple[str, str]], foot: str = "") -> None:
        super().__init__(id="scorecard")
        self.head = head
        self.rows = tuple(rows)
        self.foot = foot

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for label, value in self.rows:
            table.add_row(Text(label), Text(value))
        with Vertical():
            yield Static(Text(self.head), id="scorecard-head")
            yield Static(table, id="scorecard-rows")
            if self.foot:
                yield Static(Text(self.foot, style="dim"), id="scorecard-foot")

    def action_close(self) -> None:
        self.dismiss(None)
