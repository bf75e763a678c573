"""A function's recent traces, errors first; Enter opens one as a waterfall.

The search runs in a worker over every trace source at once (``fleet.find_traces``); a
source that fails is named with its message and the others' traces are still listed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from console.core import fmt
from console.core.model import Function, TraceQuery, TraceSummary
from console.plugin_api import Traces
from console.tui.messages import WorkFailed
from console.tui.screens.waterfall import WaterfallScreen
from console.tui.widgets.row_table import RowTable
from console.tui.widgets.status_bar import StatusBar, status_bar_for

#: How far back the list looks, and how many traces it shows at most.
LOOKBACK_S = 3600.0
LIMIT = 50
RED = "#ff6b6b"
COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("start", "start (UTC)", 12),
    ("root", "root span", 40),
    ("duration", "duration", 10),
    ("spans", "spans", 6),
    ("errors", "errors", 6),
    ("source", "source", 10),
    ("trace_id", "trace id", 32),
)


@dataclass
class TracesFound(Message):
    """``fleet.find_traces`` answered (``failed`` is set when the search itself broke)."""

    traces: list[TraceSummary]
    errors: dict[str, str]
    asked: list[str]
    failed: str | None = None


def clock_time(ns: int) -> str:
    """Unix ns → ``21:04:05.123`` (UTC)."""
    secs, rem = divmod(ns, 10**9)
    return datetime.fromtimestamp(secs, UTC).strftime("%H:%M:%S") + f".{rem // 10**6:03d}"


def _count(n: int | None, *, error: bool = False) -> Text:
    if n is None:
        return Text("—", style="dim", justify="right")
    return Text(str(n), style=f"bold {RED}" if error and n else "", justify="right")


def row(t: TraceSummary) -> list[Text]:
    """The cells of one trace (plain Text: ids and names are never markup)."""
    root = f"{t.root_service} {t.root_name}".strip() or "(root span not received)"
    errored = bool(t.error_count)
    return [
        Text(clock_time(t.start_ns)),
        Text(root, style=RED if errored else "", overflow="ellipsis", no_wrap=True),
        Text(fmt.ms(t.duration_ms), justify="right"),
        _count(t.span_count),
        _count(t.error_count, error=True),
        Text(t.source, style="dim"),
        Text(t.trace_id, style="dim"),
    ]


class TracesScreen(Screen[None]):
    """The recent traces of ``function``. Enter opens a waterfall; ``e`` errors only."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "app.back", "Back"),
        Binding("enter", "open", "Waterfall", priority=True),
        Binding("e", "errors_only", "Errors only"),
        Binding("ctrl+r", "reload", "Reload"),
        Binding("y", "copy_id", "Copy trace id"),
        Binding("r", "runbook", "Run runbook"),
        Binding("i", "incident", "Incident"),
        Binding("p", "app.toggle_pause", "Pause", show=False),
    ]
    DEFAULT_CSS = """
    TracesScreen #traces-title { height: auto; padding: 0 1; background: $surface; }
    TracesScreen #traces-table { height: 1fr; }
    TracesScreen #traces-info { height: auto; padding: 0 1; background: $surface; }
    """

    def __init__(self, function: Function, *, errors_only: bool = False) -> None:
        super().__init__()
        self.function = function
        self.errors_only = errors_only
        self.traces: list[TraceSummary] = []
        self.searching = False
        #: Enter was pressed before the traces arrived: open the first one when they do.
        self._open_when_loaded = False

    def compose(self) -> ComposeResult:
        bar = status_bar_for(self.app)
        if bar is not None:
            yield bar
        yield Static(id="traces-title")
        yield RowTable(id="traces-table", cursor_type="row", zebra_stripes=False)
        yield Static(id="traces-info")
        yield Footer()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one(DataTable)

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            right = key in ("duration", "spans", "errors")
            self.table.add_column(
                Text(label, justify="right" if right else "left"), key=key, width=width
            )
        self.table.focus()
        self.action_reload()

    def show_snapshot(self, snapshot: Any) -> None:
        """The app's refresh: keep the header current."""
        for bar in self.query(StatusBar):
            bar.snapshot = snapshot

    # -- loading -----------------------------------------------------------------------

    def action_reload(self) -> None:
        self.searching = True
        self._title()
        self.query_one("#traces-info", Static).update(Text("loading traces…", style="italic"))
        self.search()

    @work(group="traces", exclusive=True, exit_on_error=False)
    async def search(self) -> None:
        """Ask every trace source for the function's recent traces."""
        fleet = getattr(self.app, "fleet", None)
        if fleet is None:
            return
        now = fleet.clock() if callable(getattr(fleet, "clock", None)) else time.time()
        fn = self.function
        query = TraceQuery(
            service=fn.service,
            operation=fn.operation or None,
            errors_only=self.errors_only,
            start_ns=int((now - LOOKBACK_S) * 1e9),
            end_ns=int(now * 1e9),
            limit=LIMIT,
        )
        asked = [b.name for b in fleet.backends if b.has(Traces)]
        try:
            found = await fleet.find_traces(query)
        except Exception as exc:
            self.post_message(WorkFailed("Trace search", exc))
            self.post_message(TracesFound([], {}, asked, failed=str(exc) or type(exc).__name__))
            return
        self.post_message(TracesFound(found, dict(fleet.trace_errors), asked))

    @on(TracesFound)
    def _found(self, message: TracesFound) -> None:
        self.searching = False
        # Errors first, then newest (the fleet sorts so too; a list must not depend on it).
        unique = {t.trace_id: t for t in reversed(message.traces)}  # first one wins
        self.traces = sorted(unique.values(), key=lambda t: (not t.error_count, -t.start_ns))
        table = self.table
        table.clear()
        for t in self.traces:
            table.add_row(*row(t), key=t.trace_id)
        self._title()
        self.query_one("#traces-info", Static).update(self._info(message))
        if self._open_when_loaded:
            self._open_when_loaded = False
            self.action_open()  # the cursor is on the first row: what Enter would have opened

    def _title(self) -> None:
        out = Text("Traces of ", style="dim")
        out.append(self.function.id, style="bold")
        out.append(f"   last {int(LOOKBACK_S // 60)} min, up to {LIMIT}", style="dim")
        if self.errors_only:
            out.append("   errors only", style=f"bold {RED}")
        self.query_one("#traces-title", Static).update(out)

    def _info(self, m: TracesFound) -> Text:
        out = Text()
        if m.failed:
            out.append(f"Trace search failed: {m.failed}", style=f"bold {RED}")
        elif not self.traces:
            what = "traces with errors" if self.errors_only else "traces"
            out.append(f"No {what} in the last {int(LOOKBACK_S // 60)} min", style="bold")
            out.append(f" (asked: {', '.join(m.asked) or 'no trace source configured'})", "dim")
        else:
            errored = sum(1 for t in self.traces if t.error_count)
            out.append(f"{len(self.traces)} traces", style="bold")
            out.append(f", {errored} with errors" if errored else ", none with errors")
            out.append(f"   from {', '.join(m.asked)}", style="dim")
        for name, err in m.errors.items():
            out.append(f"\n{name} failed: {err}", style=RED)
        return out

    # -- keys --------------------------------------------------------------------------

    @property
    def current(self) -> TraceSummary | None:
        """The trace under the cursor."""
        if not self.traces or self.table.row_count == 0:
            return None
        return self.traces[min(self.table.cursor_row, len(self.traces) - 1)]

    def action_open(self) -> None:
        t = self.current
        if t is not None:
            self._open(t.trace_id)
        elif self.searching:
            self._open_when_loaded = True  # a key pressed before the data is not lost

    def _open(self, trace_id: str) -> None:
        self.app.push_screen(WaterfallScreen(trace_id, function_id=self.function.id))

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self._open(str(event.row_key.value))

    def action_runbook(self) -> None:
        """Run a runbook on this function (its worst finding's first)."""
        from console.tui.screens.pick_runbook import open_runbooks

        open_runbooks(self.app, self.function.id)

    def action_incident(self) -> None:
        """Open an incident on this function, or its open incident's timeline."""
        open_incident = getattr(self.app, "open_incident_for", None)
        if open_incident is not None:
            open_incident(self.function.id)

    def action_errors_only(self) -> None:
        self.errors_only = not self.errors_only
        self.action_reload()

    def action_copy_id(self) -> None:
        t = self.current
        if t is not None:
            self.app.copy_to_clipboard(t.trace_id)
            self.notify(f"Copied trace id {t.trace_id}", timeout=2)
