"""One timeline event in full: ``enter`` on a timeline row opens it, ``esc`` closes it.

The timeline's rows are short (a relative time, the summary wrapped to the column); this
shows everything the event holds — kind, absolute UTC time to the millisecond, actor,
function, run, ids — and its summary and data as the export writes them: secret-looking keys
masked (the postmortem's row data) and every known secret redacted.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from console.core.causes import ago
from console.core.postmortem import Row
from console.core.redact import redact
from console.core.timeline import epoch


def absolute(at: str) -> str:
    """``2026-11-26 20:52:30.000 UTC`` of an ISO event time (the text itself if unparsable)."""
    t = epoch(at)
    if t is None:
        return at
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def detail_text(row: Row, now: float | None) -> Text:
    """The whole event as lines of ``label  value``, then its summary and its data."""
    e = row.event
    t = epoch(e.at)
    when = absolute(e.at)
    if t is not None and now is not None:
        when += f" ({ago(now - t)} ago)" if now >= t else " (in the future)"
    fields = [
        ("kind", e.kind),
        ("time", when),
        ("actor", e.actor),
        ("function", e.function_id or "—"),
        ("run", e.run_id or "—"),
        ("incident", e.incident_id or "—"),
        ("event", f"#{e.seq}"),  # its place in the log (the id is in the JSON export)
    ]
    if row.outcome:
        fields.append(("outcome", row.outcome))
    out = Text()
    for label, value in fields:
        out.append(f"{label:<9}", style="bold")
        out.append(redact(str(value)) + "\n")
    out.append("\nwhat happened\n", style="bold")
    out.append(redact(row.summary) + "\n")
    out.append("\ndata\n", style="bold")
    data = json.dumps(row.data, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    out.append(redact(data))
    return out


class EventDetailScreen(ModalScreen[None]):
    """The event of one timeline row, whole. Esc closes it."""

    DEFAULT_CSS = """
    EventDetailScreen { align: center middle; }
    #event-detail {
        width: 90%; max-width: 120; height: 90%;
        border: round $accent; background: $panel; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "dismiss", "Close"),
    ]

    def __init__(self, row: Row, now: float | None) -> None:
        super().__init__()
        self.row = row
        self.text = detail_text(row, now)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="event-detail") as box:
            box.border_title = f"{self.row.event.kind} · {absolute(self.row.event.at)}"
            yield Static(self.text, id="event-detail-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#event-detail").focus()
