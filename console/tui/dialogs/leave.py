"""Asked before leaving a runbook run in progress: stay (the default), or cancel it and go.

Quitting or jumping to another screen while a run is in progress would abandon it; this
modal names the function and what leaving means. The focus starts on Stay, so Enter alone
never cancels anything.
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

__all__ = ["LeaveRunScreen"]


class LeaveRunScreen(ModalScreen[bool]):
    """``A run is in progress on X — cancel it and quit?``; True only from the cancel button."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "stay", "Stay")]
    AUTO_FOCUS = "#leave-stay"
    DEFAULT_CSS = """
    LeaveRunScreen { align: center middle; }
    #leave-box { width: 80; max-width: 100%; height: auto; border: thick #e5c07b;
                 background: $panel; padding: 1 2; }
    #leave-buttons { height: auto; margin-top: 1; }
    #leave-buttons Button { margin-right: 2; }
    """

    def __init__(self, function_id: str, then: str) -> None:
        super().__init__()
        self.function_id = function_id
        #: What leaving does, as a verb phrase: "quit", "open cart:GET /cart".
        self.then = then

    def compose(self) -> ComposeResult:
        body = Text()
        body.append("A run is in progress on ", style="bold")
        body.append(self.function_id, style="bold #e5c07b")
        body.append(f" — cancel it and {self.then}?", style="bold")
        body.append(
            "\n\nCancelling stops the run at once (an action in progress finishes first)"
            " and records it cancelled (callboard runs; R resumes it, u undoes its done steps).",
            style="dim",
        )
        with Vertical(id="leave-box"):
            yield Static(body, id="leave-body")
            with Horizontal(id="leave-buttons"):
                yield Button("Stay", id="leave-stay", variant="primary")
                yield Button(f"Cancel the run and {self.then}", id="leave-go", variant="warning")
            yield Static(Text("Tab: next button · Enter: press it · Esc: stay", style="dim"))

    @on(Button.Pressed, "#leave-go")
    def _go(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#leave-stay")
    def _stay(self) -> None:
        self.dismiss(False)

    def action_stay(self) -> None:
        self.dismiss(False)
