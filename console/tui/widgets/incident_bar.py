"""The incident bar: one line under the header while an incident is open or mitigated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from console.core import fmt
from console.core.timeline import epoch
from console.engine.incidents.lifecycle import Incident

if TYPE_CHECKING:
    from textual import getters

    from console.tui.state import ConsoleApp

#: Severities shown in red (they page); the others are amber.
PAGING = ("SEV1", "SEV2")


def incident_line(incidents: Sequence[Incident], now: str) -> Text:
    """``INC-0003 SEV2 open 12m  Checkout timeouts  on checkout:POST /pay  (+1 more)``."""
    inc = incidents[0]
    opened, at = epoch(inc.opened_at), epoch(now)
    age = fmt.age(max(0.0, at - opened)) if opened is not None and at is not None else "?"
    out = Text(" INCIDENT ", style="bold reverse")
    out.append(f" {inc.id} ", style="bold")
    out.append(f" {inc.severity} ", style="bold reverse")
    out.append(f"  {inc.status}", style="bold")
    out.append(f" for {age}  ", style="")
    out.append(inc.title, style="bold")
    out.append("  on ", style="")
    out.append(", ".join(inc.functions))
    if len(incidents) > 1:
        out.append(f"  (+{len(incidents) - 1} more open)")
    out.append("   I: timeline", style="")
    return out


class IncidentBar(Static):
    """Hidden while no incident is active; red for SEV1/SEV2, amber otherwise.

    It follows the app's active incidents (newest first).
    """

    if TYPE_CHECKING:
        app = getters.app(ConsoleApp)

    DEFAULT_CSS = """
    IncidentBar {
        height: 1;
        background: #8a6d1a;
        color: #ffffff;
        display: none;
    }
    IncidentBar.-active { display: block; }
    IncidentBar.-paging { background: #b22222; }
    """

    def __init__(self) -> None:
        super().__init__(id="incident-bar")

    def on_mount(self) -> None:
        self.watch(self.app, "incidents", self._changed)

    def _changed(self, incidents: list[Incident]) -> None:
        self.show(incidents, self.app.now_iso())

    def show(self, incidents: Sequence[Incident], now: str) -> None:
        """Show the newest of ``incidents`` (hide the bar when there is none)."""
        self.set_class(bool(incidents), "-active")
        self.set_class(bool(incidents) and incidents[0].severity in PAGING, "-paging")
        self.update(incident_line(incidents, now) if incidents else "")
