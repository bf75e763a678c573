"""The runner's question when a stale lease holds the function: take it over?

Shown only for a lease whose holder stopped heartbeating (a live holder is refused outright).
The focus starts on Cancel: taking over another responder's run is a deliberate ``tab`` +
Enter. Dismisses True (take it over) or None.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from console.tui.dialogs.incident_dialogs import _Dialog

__all__ = ["TakeOverScreen"]


class TakeOverScreen(_Dialog[bool | None]):
    """``<holder> is running <runbook> … (stale)``: Take over, or Cancel."""

    AUTO_FOCUS = ".cancel"

    def __init__(self, refusal: str) -> None:
        super().__init__()
        self.refusal = refusal

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Another run holds this function"), classes="dialog-title")
            yield Static(Text(self.refusal))
            yield Static(
                Text(
                    "Take over only if that run is really gone: the takeover is recorded "
                    "with both names, and its run stops if it comes back.",
                    style="dim",
                )
            )
            with Horizontal():
                yield Button("Cancel", classes="cancel")
                yield Button("Take over", variant="error", id="lease-take-over")

    @on(Button.Pressed, "#lease-take-over")
    def _take(self) -> None:
        self.dismiss(True)
