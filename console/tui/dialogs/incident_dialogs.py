"""Small modals for incidents: open one, add a note, confirm a status change, export.

Each returns its answer through ``dismiss`` (None: cancelled). Esc always cancels; Enter in
an input submits.
"""

from __future__ import annotations

from typing import ClassVar, Generic, TypeVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from console.core.sanitize import clean_line
from console.core.snapshot import FunctionHealth
from console.engine.incidents.export import FORMATS
from console.engine.incidents.lifecycle import SEVERITIES

DIALOG_CSS = """
.incident-dialog { align: center middle; }
.incident-dialog > Vertical {
    width: 84; max-width: 100%; height: auto; border: round $accent; background: $panel;
    padding: 1 2;
}
.incident-dialog .dialog-title { text-style: bold; margin-bottom: 1; }
.incident-dialog Horizontal { height: auto; margin-top: 1; }
.incident-dialog Button { margin-right: 1; min-width: 10; width: auto; }
.incident-dialog Select { width: 16; margin-right: 2; }
"""


def default_title(function_id: str, health: FunctionHealth | None) -> str:
    """A title from the function's worst finding (``F1 Timeout on checkout:POST /pay``)."""
    if health is not None and health.findings:
        worst = min(health.findings, key=lambda f: f.severity.rank)
        return f"{worst.mode.value} {worst.name} on {function_id}"
    return f"Problem on {function_id}"


def default_severity(health: FunctionHealth | None) -> str:
    """SEV2 for a finding that pages, SEV3 otherwise."""
    pages = health is not None and any(f.severity.value == "page" for f in health.findings)
    return "SEV2" if pages else "SEV3"


_T = TypeVar("_T")


class _Dialog(ModalScreen[_T], Generic[_T]):
    DEFAULT_CSS = DIALOG_CSS
    SCOPED_CSS = False  # the rules name the dialog by its class
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self) -> None:
        super().__init__(classes="incident-dialog")

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, ".cancel")
    def _cancel(self) -> None:
        self.action_cancel()


class OpenIncidentScreen(_Dialog[tuple[str, str] | None]):
    """Title (prefilled) and severity; dismisses ``(title, severity)`` or None."""

    def __init__(self, function_id: str, title: str, severity: str = "SEV2") -> None:
        super().__init__()
        self.function_id = function_id
        self.title_text = title
        self.severity = severity

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Open an incident on {self.function_id}"), classes="dialog-title")
            yield Input(self.title_text, placeholder="title", id="incident-title")
            with Horizontal():
                yield Select(
                    [(s, s) for s in SEVERITIES],
                    value=self.severity,
                    allow_blank=False,
                    id="incident-severity",
                )
                yield Button("Open incident", variant="warning", id="incident-open")
                yield Button("Cancel", classes="cancel")

    @on(Input.Submitted, "#incident-title")
    @on(Button.Pressed, "#incident-open")
    def _open(self) -> None:
        title = clean_line(self.query_one("#incident-title", Input).value).strip()
        if not title:
            self.notify("An incident needs a title.", severity="warning", timeout=3)
            return
        severity = self.query_one("#incident-severity", Select).value
        self.dismiss((title, str(severity)))


class NoteScreen(_Dialog[str | None]):
    """One line of text; dismisses it, or None."""

    def __init__(self, incident_id: str) -> None:
        super().__init__()
        self.incident_id = incident_id

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Note on {self.incident_id}", classes="dialog-title")
            yield Input(placeholder="what you saw or did — Enter adds it", id="note-text")
            with Horizontal():
                yield Button("Add note", variant="primary", id="note-add")
                yield Button("Cancel", classes="cancel")

    @on(Input.Submitted, "#note-text")
    @on(Button.Pressed, "#note-add")
    def _add(self) -> None:
        text = clean_line(self.query_one("#note-text", Input).value).strip()
        if text:
            self.dismiss(text)


class ConfirmStatusScreen(_Dialog[bool | None]):
    """``Mark INC-0001 resolved?``; dismisses True, or None.

    The dialog is the guard against a stray ``m``/``R``: its focus starts on the button it
    names, so Enter confirms (a second deliberate key) and Esc cancels, without a ``tab``.
    """

    AUTO_FOCUS = "#status-ok"

    def __init__(self, incident_id: str, status: str) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.status = status

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Mark {self.incident_id} {self.status}?", classes="dialog-title")
            yield Static(
                Text("This is recorded on the timeline and cannot be undone.", style="dim")
            )
            with Horizontal():
                yield Button("Cancel", classes="cancel")
                yield Button(f"Mark {self.status}", variant="warning", id="status-ok")

    @on(Button.Pressed, "#status-ok")
    def _ok(self) -> None:
        self.dismiss(True)


class ExportScreen(_Dialog[str | None]):
    """Choose a format; dismisses ``md``, ``json``, ``html`` or ``csv``, or None."""

    def __init__(self, incident_id: str, where: str) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.where = where

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Export {self.incident_id} as a postmortem", classes="dialog-title")
            yield Static(Text(f"into {self.where}", style="dim"))
            with Horizontal():
                for f in ("md", "json", "html", "csv"):
                    yield Button(f, id=f"export-{f}", variant="primary" if f == "md" else "default")
                yield Button("Cancel", classes="cancel")

    @on(Button.Pressed)
    def _chosen(self, event: Button.Pressed) -> None:
        fmt = (event.button.id or "").removeprefix("export-")
        if fmt in FORMATS:
            self.dismiss(fmt)
