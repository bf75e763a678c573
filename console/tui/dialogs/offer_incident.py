"""Asked in production before the first real run that changes something, with no incident open.

A run recorded in an incident is what the responders, the timeline and the export see; a
run started without one is easy to lose. One key answers: ``y`` opens the incident (then
runs), ``n`` runs without. In production the focus starts on "open one", so Enter alone
opens it; elsewhere on "run without".
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

__all__ = ["OfferIncidentScreen"]


class OfferIncidentScreen(ModalScreen[bool | None]):
    """True: open an incident, then run. False: run without. None (Esc): do not run."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Open incident"),
        Binding("n", "answer(False)", "Run without"),
        Binding("escape", "answer(None)", "Back"),
    ]
    DEFAULT_CSS = """
    OfferIncidentScreen { align: center middle; }
    #offer-box { width: 84; max-width: 100%; height: auto; border: thick #e5c07b;
                 background: $panel; padding: 1 2; }
    #offer-buttons { height: auto; margin-top: 1; }
    #offer-buttons Button { margin-right: 2; }
    """

    def __init__(self, function_id: str, title: str, *, production: bool) -> None:
        super().__init__()
        self.function_id = function_id
        #: The incident's title if opened (from the worst finding).
        self.title_text = title
        self.production = production

    def compose(self) -> ComposeResult:
        body = Text()
        body.append("No incident is open on ", style="bold")
        body.append(self.function_id, style="bold #e5c07b")
        body.append(" — open one before this run changes things?", style="bold")
        body.append(f"\n\n“{self.title_text}”", style="italic")
        body.append(
            "\nThe run, its steps and the signals are recorded in it; notes and the export follow.",
            style="dim",
        )
        with Vertical(id="offer-box"):
            yield Static(body, id="offer-body")
            with Horizontal(id="offer-buttons"):
                yield Button("y  Open an incident and run", id="offer-open", variant="warning")
                yield Button("n  Run without", id="offer-skip")
            yield Static(Text("y: open and run · n: run without · Esc: back", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#offer-open" if self.production else "#offer-skip").focus()

    @on(Button.Pressed, "#offer-open")
    def _open(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#offer-skip")
    def _skip(self) -> None:
        self.dismiss(False)

    def action_answer(self, answer: bool | None) -> None:
        self.dismiss(answer)
