"""The failing-backend banner: under the fleet's header while any backend fails.

A toast disappears and the header has room for ``prom failing`` only; this banner stays
until the backend recovers and says which backend, where (its URL), what went wrong first
(not the later "circuit open") and for how long.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from console.core import fmt
from console.tui.health import Failing, Health

if TYPE_CHECKING:
    from textual import getters

    from console.tui.state import ConsoleApp

__all__ = ["BackendBanner", "banner_text", "failing_since"]

#: Failing backends named one a line before "and N more".
SHOWN = 3


def failing_since(f: Failing) -> str:
    """``failing for 1m30s`` (or ``failing`` when the start is not known)."""
    return "failing" if f.age_s is None else f"failing for {fmt.age(f.age_s)}"


def banner_text(failing: list[Failing]) -> Text:
    """One line per failing backend: name, age, circuit, first error, URL (when the error
    does not already name it); what matters first, so a narrow terminal wraps the rest."""
    out = Text()
    for i, f in enumerate(failing[:SHOWN]):
        if i:
            out.append("\n")
        out.append(" ✖ ", style="bold")
        out.append(f.name, style="bold")
        out.append(f" {failing_since(f)}", style="bold")
        if f.circuit:
            out.append(f" (circuit {f.circuit})")
        out.append(": ")
        out.append(f.first_error)
        if f.url and f.url not in f.first_error:
            out.append(f" — {f.url}")
    if len(failing) > SHOWN:
        out.append(f"\n   and {len(failing) - SHOWN} more failing")
    out.append("  (b: backends)", style="dim" if len(failing) > SHOWN else "")
    return out


class BackendBanner(Static):
    """Hidden while every backend answers; one line per failing backend otherwise."""

    DEFAULT_CSS = """
    BackendBanner {
        height: auto;
        max-height: 4;
        background: $error-muted;
        color: $text;
        display: none;
    }
    BackendBanner.-active { display: block; }
    """

    if TYPE_CHECKING:
        app = getters.app(ConsoleApp)

    def __init__(self) -> None:
        super().__init__(id="backend-banner")
        self.failing: list[Failing] = []

    def on_mount(self) -> None:
        self.watch(self.app, "health", self._health)

    def _health(self, health: Health) -> None:
        self.show(list(health.failing))

    def show(self, failing: list[Failing]) -> None:
        """Show ``failing`` (hide the banner when it is empty)."""
        self.failing = failing
        self.set_class(bool(failing), "-active")
        self.display = bool(failing)
        self.update(banner_text(failing) if failing else "")
