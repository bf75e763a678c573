"""A function's recent traces, errors first; Enter opens one as a waterfall.

The search runs in a worker over every trace source at once (``fleet.find_traces``); a
source that fails is named with its message and the others' traces are still listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from console.core import fmt
from console.core.model import Function, TraceQuery, TraceSummary
from console.plugin_api import Traces
from console.tui.logview import clock as clock_time
from console.tui.messages import WorkFailed
from console.tui.screens.base import CallboardScreen
from console.tui.screens.waterfall import WaterfallScreen
from console.tui.widgets.row_table import RowTable
from console.tui.widgets.status_bar import status_bar_for

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
#: Dropped first when the terminal is narrow (errors and the trace id always stay).
LOW_PRIORITY = ("source", "spans")
#: The narrowest root span and trace id columns (an id is cut with … in the middle).
ROOT_MIN, ID_MIN = 24, 13


def columns_for(width: int) -> list[tuple[str, str, int]]:
    """The columns that fit ``width`` cells: low-priority ones dropped first, then the
    root span and the trace id share what is left (the id at most its 32 characters)."""
    fixed = {k: w for k, _, w in COLUMNS if k not in ("root", "trace_id")}
    keys = [k for k, _, _ in COLUMNS]
    room = 0
    for drop in range(len(LOW_PRIORITY) + 1):
        keys = [k for k, _, _ in COLUMNS if k not in LOW_PRIORITY[:drop]]
        # 2 cells of padding per column, 2 for the scrollbar.
        room = width - 2 - sum(fixed.get(k, 0) + 2 for k in keys)
        if room >= ROOT_MIN + 32:
            break
    tid = min(32, max(ID_MIN, room - ROOT_MIN))
    sizes = {**fixed, "root": max(12, room - tid), "trace_id": tid}
    return [(k, label, sizes[k]) for k, label, _ in COLUMNS if k in keys]


def cut_middle(text: str, width: int) -> str:
    """``text`` in ``width`` cells, cut in the middle with … (both ends of an id stay)."""
    if len(text) <= width:
        return text
    head = width // 2
    tail = width - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail else "")


@dataclass
class TracesFound(Message):
    """``fleet.find_traces`` answered (``failed`` is set when the search itself broke)."""

    traces: list[TraceSummary]
    errors: dict[str, str]
    asked: list[str]
    failed: str | None = None


def _count(n: int | None, *, error: bool = False) -> Text:
    if n is None:
        return Text("—", style="dim", justify="right")
    return Text(str(n), style=f"bold {RED}" if error and n else "", justify="right")


def row(t: TraceSummary, columns: dict[str, int] | None = None) -> list[Text]:
    """The cells of one trace (plain Text: ids and names are never markup), for
    ``columns`` (key → width; default: every column at full width)."""
    root = f"{t.root_service} {t.root_name}".strip() or "(root span not received)"
    errored = bool(t.error_count)
    widths = columns if columns is not None else {k: w for k, _, w in COLUMNS}
    cells = {
        "start": Text(clock_time(t.start_ns)),
        "root": Text(root, style=RED if errored else "", overflow="ellipsis", no_wrap=True),
        "duration": Text(fmt.ms(t.duration_ms), justify="right"),
        "spans": _count(t.span_count),
        "errors": _count(t.error_count, error=True),
        "source": Text(t.source, style="dim"),
        "trace_id": Text(cut_middle(t.trace_id, widths.get("trace_id", 32)), style="dim"),
    }
    return [cells[k] for k in widths]


class TracesScreen(CallboardScreen):
    """The recent traces of ``function``. Enter opens a waterfall; ``e`` errors only."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "app.back", "Back"),
        Binding("enter", "open", "Waterfall", priority=True),
        Binding("e", "errors_only", "Errors only"),
        Binding("ctrl+r", "reload", "Reload"),
        Binding("l", "logs", "Logs"),
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
        #: The columns shown now (key → width), for the terminal's width.
        self.columns: dict[str, int] = {}
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
        self._layout(self.app.size.width)
        self.table.focus()
        self.action_reload()

    def on_resize(self) -> None:
        self._layout(self.size.width)

    def _layout(self, width: int) -> None:
        """Columns for ``width``; the rows again when they change (cursor kept)."""
        cols = {k: w for k, _, w in columns_for(width)}
        if cols == self.columns:
            return
        self.columns = cols
        table = self.table
        cursor = table.cursor_row
        table.clear(columns=True)
        for key, label, width_ in columns_for(width):
            right = key in ("duration", "spans", "errors")
            table.add_column(
                Text(label, justify="right" if right else "left"), key=key, width=width_
            )
        self._fill()
        if self.traces:
            table.move_cursor(row=min(cursor, len(self.traces) - 1))

    def _fill(self) -> None:
        for t in self.traces:
            self.table.add_row(*row(t, self.columns), key=t.trace_id)

    # -- loading -----------------------------------------------------------------------

    def action_reload(self) -> None:
        self.searching = True
        self._title()
        self.query_one("#traces-info", Static).update(Text("loading traces…", style="italic"))
        self.search()

    @work(group="traces", exclusive=True, exit_on_error=False)
    async def search(self) -> None:
        """Ask every trace source for the function's recent traces."""
        fleet = self.app.fleet
        now = fleet.clock()
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
        self.table.clear()
        self._fill()
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
        self.app.open_runbooks(self.function.id)

    def action_incident(self) -> None:
        """Open an incident on this function, or its open incident's timeline."""
        self.app.open_incident_for(self.function.id)

    def action_errors_only(self) -> None:
        self.errors_only = not self.errors_only
        self.action_reload()

    def action_logs(self) -> None:
        """The log records of the trace under the cursor (else the service around it)."""
        from console.tui.logview import for_trace
        from console.tui.screens.logs import LogsScreen

        t = self.current
        if t is None:
            return
        end = t.start_ns + int(t.duration_ms * 1e6)
        target = for_trace(
            t.trace_id, self.function.service, t.start_ns, end, function_id=self.function.id
        )
        self.app.push_screen(LogsScreen(target))

    def action_copy_id(self) -> None:
        t = self.current
        if t is not None:
            self.app.copy_to_clipboard(t.trace_id)
            self.notify(f"Copied trace id {t.trace_id}", timeout=2)
