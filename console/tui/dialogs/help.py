"""``?``: every key, and what the F-codes mean."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.core.model import FAILURE_MODE_NAMES

KEYS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Everywhere",
        (
            ("?", "this help"),
            ("ctrl+p", "command palette: go to a function, toggles, sort, theme"),
            ("p", "pause / resume live refresh"),
            ("ctrl+r", "refresh now"),
            ("b", "backends: state, error, latency, warnings"),
            ("esc, backspace", "back"),
            ("q, ctrl+q", "quit"),
        ),
    ),
    (
        "Fleet",
        (
            ("↑ ↓ j k, pgup pgdn", "move; home / end: first / last row"),
            ("enter, click", "open the function"),
            ("/", "filter: text or regex over id, service, owner, F-code; esc clears"),
            ("s / S", "sort by the next column / reverse (or click a header)"),
            ("u", "only unhealthy functions"),
            ("g", "group by owner, the most urgent team first"),
            ("r", "run the worst finding's runbook"),
            ("l", "the function's log records, as from its screen"),
            ("I", "the open incident's timeline"),
            ("y", "copy the function id (OSC 52)"),
        ),
    ),
    (
        "Function",
        (
            ("t", "recent traces, errors first"),
            ("l", "its log records (its service, the last 15 min), following live"),
            ("r", "run the worst finding's runbook"),
            ("i", "open an incident (or its timeline if one is open)"),
            ("I", "the open incident's timeline"),
            ("y", "copy the function id"),
        ),
    ),
    (
        "Traces",
        (
            ("enter", "open the trace as a waterfall (home / end: first / last row)"),
            ("e", "only traces with errors"),
            ("l", "the trace's log records (by trace id, else the service around it)"),
            ("ctrl+r", "search again"),
            ("y", "copy the trace id"),
        ),
    ),
    (
        "Waterfall",
        (
            ("f", "back to the first error span (it opens there: where it broke)"),
            ("l", "the selected span's log records (by span id, else around its time)"),
            ("enter, space", "collapse / expand the span's subtree"),
            ("↑ ↓ j k pgup pgdn", "move (home, end too); the span's details show below"),
            ("y", "copy the trace id (OSC 52)"),
        ),
    ),
    (
        "Logs",
        (
            ("/", "filter: text in level, service, message, attributes; esc clears"),
            ("f", "follow live / pause (new records appear at the bottom)"),
            ("e", "only ERROR and FATAL"),
            ("↑ ↓ enter", "the whole record below: every line, ids, attributes"),
            ("y", "copy the message; ctrl+r: ask again"),
        ),
    ),
    (
        "Runbook runner",
        (
            ("enter", "dry run; after it, enter runs for real"),
            ("enter", "in a confirmation: Confirm (with no incident open: and open one)"),
            ("tab", "in a confirmation: the next button (in production, Cancel to Confirm)"),
            ("c", "cancel before the next step"),
            ("u", "undo the done steps of a stopped run"),
            ("R", "resume the newest stopped run"),
        ),
    ),
    (
        "Incident timeline",
        (
            ("enter", "the whole event: time, actor, run, data (esc closes)"),
            ("a", "times: relative / UTC clock"),
            ("f / F", "filter: next event kind / all kinds"),
            ("n", "add a note"),
            ("A", "roles: give commander, comms, ops, … to someone (empty: unassign)"),
            ("m / R", "mark mitigated / resolved (asks first)"),
            ("e", "export the postmortem as Markdown (the toast names the file)"),
            ("E", "export as md, json, html or csv"),
        ),
    ),
)


def help_text() -> Table:
    """The help as one Rich table."""
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column(width=20, style="bold #7fb4ca")
    table.add_column()
    for title, rows in KEYS:
        table.add_row(Text(title, style="bold underline"), "")
        for key, what in rows:
            table.add_row(key, what)
        table.add_row("", "")
    table.add_row(
        Text("Mouse", style="bold underline"),
        "click rows and headers; shift+drag selects text in most terminals",
    )
    return table


def modes_text() -> Group:
    """What each F-code badge means."""
    table = Table(box=None, show_header=False, padding=(0, 2))
    table.add_column(width=4, style="bold #e5c07b")
    table.add_column()
    for mode, name in FAILURE_MODE_NAMES.items():
        table.add_row(mode.value, name)
    return Group(Text("  Failure modes", style="bold underline"), table)


class HelpScreen(ModalScreen[None]):
    """A modal over the current screen; esc, ? or backspace closes it, q quits as everywhere."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,backspace", "dismiss", "Close"),
        Binding("q", "app.quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(Text("Callboard — keys", style="bold"), id="help-title")
            with Horizontal(id="help-columns"):
                yield Static(help_text(), id="help-body")
                yield Static(modes_text(), id="help-modes")
