"""One trace as a waterfall, with the selected span's details below it.

The trace is fetched in a worker (``fleet.trace``); a trace handed in (the bench, a test)
is shown at once. It opens with the cursor on the first error span (where the error
began) and its detail shown; ``f`` jumps back to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Footer, Static

from console.core import traces as core_traces
from console.core.model import Span, Trace
from console.plugin_api import Traces
from console.tui.messages import WorkFailed
from console.tui.screens.base import CallboardScreen
from console.tui.widgets.status_bar import status_bar_for
from console.tui.widgets.waterfall import Waterfall, span_duration

RED = "#ff6b6b"
MUTED = "dim"


@dataclass
class TraceLoaded(Message):
    """``fleet.trace`` answered: the trace (None when no source has it) and failed sources."""

    trace_id: str
    trace: Trace | None
    errors: dict[str, str]
    asked: list[str]


def _value(v: Any) -> str:
    text = str(v)
    return text if len(text) <= 160 else text[:159] + "…"


class WaterfallScreen(CallboardScreen):
    """The waterfall of ``trace_id``. Esc goes back to the trace list."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "app.back", "Back"),
        Binding("f", "first_error", "First error"),
        Binding("l", "logs", "Span logs"),
        Binding("y", "copy_id", "Copy trace id"),
        Binding("r", "runbook", "Run runbook"),
        Binding("i", "incident", "Incident"),
        Binding("p", "app.toggle_pause", "Pause", show=False),
    ]
    # The waterfall takes what its spans need (up to 70%); the detail pane the rest.
    DEFAULT_CSS = """
    WaterfallScreen #wf-title { height: auto; padding: 0 1; background: $surface; }
    WaterfallScreen Waterfall { height: auto; max-height: 70%; }
    WaterfallScreen #wf-detail {
        height: 1fr; min-height: 8; padding: 0 1; border-top: solid $panel-lighten-2;
    }
    """

    def __init__(
        self, trace_id: str, trace: Trace | None = None, *, function_id: str | None = None
    ) -> None:
        super().__init__()
        self.trace_id = trace_id
        self.trace = trace
        #: The function whose traces led here: ``r`` and ``i`` act on it (None: no keys).
        self.function_id = function_id

    def compose(self) -> ComposeResult:
        bar = status_bar_for(self.app)
        if bar is not None:
            yield bar
        yield Static(Text(f"loading trace {self.trace_id}…", style="italic"), id="wf-title")
        yield Waterfall(self.trace, id="waterfall")
        yield Static(id="wf-detail")
        yield Footer()

    @property
    def waterfall(self) -> Waterfall:
        return self.query_one(Waterfall)

    def on_mount(self) -> None:
        self.waterfall.focus()
        if self.trace is not None:
            self._show(self.trace)
        else:
            self.load_trace()

    # -- loading -----------------------------------------------------------------------

    @work(group="trace", exclusive=True, exit_on_error=False)
    async def load_trace(self) -> None:
        """Fetch the trace from the first source that has it."""
        fleet = self.app.fleet
        asked = [b.name for b in fleet.backends if b.has(Traces)]
        try:
            found = await fleet.trace(self.trace_id)
        except Exception as exc:
            self.post_message(WorkFailed("Loading the trace", exc))
            found = None
        self.post_message(TraceLoaded(self.trace_id, found, dict(fleet.trace_errors), asked))

    @on(TraceLoaded)
    def _loaded(self, message: TraceLoaded) -> None:
        if message.trace is not None:
            self._show(message.trace)
            return
        text = Text(f"Trace {message.trace_id} was not found", style="bold")
        text.append(f" (asked: {', '.join(message.asked) or 'no trace source'})", style=MUTED)
        for name, err in message.errors.items():
            text.append(f"\n{name} failed: {err}", style=RED)
        self.query_one("#wf-title", Static).update(text)

    def _show(self, trace: Trace) -> None:
        self.trace = trace
        wf = self.waterfall
        if wf.trace is not trace:
            wf.set_trace(trace)
        # A responder opens a failing trace to see where it broke: the cursor starts on the
        # first error span (its detail below), not on the root; ``f`` comes back to it.
        if wf.first_error_id is not None:
            wf.select(wf.first_error_id)
        self.query_one("#wf-title", Static).update(self._title(trace, wf))
        self._detail(wf.selected)

    # -- rendering ---------------------------------------------------------------------

    def _title(self, trace: Trace, wf: Waterfall) -> Text:
        s = core_traces.summarize(trace)
        out = Text()
        out.append("trace ", style=MUTED)
        out.append(trace.trace_id, style="bold")
        out.append(f"   {s.span_count} spans · {span_duration(wf.total)} · ", style=MUTED)
        if s.error_count:
            plural = "" if s.error_count == 1 else "s"
            out.append(f"{s.error_count} error span{plural}", style=f"bold {RED}")
        else:
            out.append("no errors", style="#6a9955")
        if trace.source:
            out.append(f" · from {trace.source}", style=MUTED)
        first = next((sp for sp in trace.spans if sp.span_id == wf.first_error_id), None)
        if first is not None:
            out.append("\n▶ first error  ", style=f"bold {RED}")
            out.append(f"{first.service} · {first.name}", style="bold")
            if first.status_message:
                out.append(f" — {first.status_message}", style=RED)
            out.append("   (f jumps to it)", style=MUTED)
        for w in trace.warnings:
            out.append(f"\n! {w}", style="#e5c07b")
        return out

    @on(Waterfall.Highlighted)
    def _highlighted(self, event: Waterfall.Highlighted) -> None:
        self._detail(event.span)

    def _detail(self, span: Span | None) -> None:
        self.query_one("#wf-detail", Static).update(
            self.detail(span) if span else Text("no spans", style=MUTED)
        )

    def detail(self, span: Span) -> RenderableType:
        """The selected span: timing, status message, attributes and events."""
        wf = self.waterfall
        error = span.status == "error"
        head = Text()
        if span.span_id == wf.first_error_id:
            head.append("▶ first error  ", style=f"bold {RED}")
        head.append(span.name or "(unnamed)", style=f"bold {RED}" if error else "bold")
        head.append(f"   {span.service} · {span.kind} · ", style=MUTED)
        head.append(span.status, style=f"bold {RED}" if error else "")
        head.append("\nstarts ", style=MUTED)
        head.append(f"+{span_duration(max(0, span.start_ns - wf.t0))}")
        head.append("   lasts ", style=MUTED)
        head.append(span_duration(span.duration_ns))
        head.append("   span ", style=MUTED)
        head.append(span.span_id)
        head.append("   parent ", style=MUTED)
        head.append(span.parent_id or "none (root)")
        if span.status_message:
            head.append("\n" + span.status_message, style=RED if error else "")
        parts: list[RenderableType] = [head]
        if span.attributes:
            parts.append(self._attributes(span.attributes))
        if span.events:
            parts.append(self._events(span, wf.t0))
        return Group(*parts)

    @staticmethod
    def _attributes(attrs: Mapping[str, Any]) -> Table:
        grid = Table.grid(padding=(0, 1), expand=True)
        for _ in range(2):
            grid.add_column(style="#7fb4ca", no_wrap=True)
            grid.add_column(ratio=1, overflow="fold")
        items = sorted(attrs.items())
        half = (len(items) + 1) // 2
        for (k1, v1), right in zip(items[:half], [*items[half:], None], strict=False):
            k2, v2 = right if right else ("", "")
            grid.add_row(str(k1), _value(v1), str(k2), _value(v2) if right else "")
        return grid

    @staticmethod
    def _events(span: Span, t0: int) -> Text:
        out = Text("events", style="bold")
        for e in span.events:
            at = e.get("time_unix_nano") or e.get("time_ns")
            offset = f"+{span_duration(max(0, int(at) - t0))}" if at else "—"
            out.append(f"\n  {offset:>10}  ", style=MUTED)
            out.append(str(e.get("name", "")))
            attrs = e.get("attributes") or {}
            if attrs:
                out.append("  " + "  ".join(f"{k}={_value(v)}" for k, v in attrs.items()), MUTED)
        return out

    # -- keys --------------------------------------------------------------------------

    def action_first_error(self) -> None:
        wf = self.waterfall
        if wf.first_error_id is None or not wf.select(wf.first_error_id):
            self.notify("This trace has no error span.", timeout=3)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("runbook", "incident"):
            return self.function_id is not None
        return True

    def action_runbook(self) -> None:
        """Run a runbook on the function (its worst finding's first)."""
        if self.function_id is not None:
            self.app.open_runbooks(self.function_id)

    def action_incident(self) -> None:
        """Open an incident on the function, or its open incident's timeline."""
        if self.function_id is not None:
            self.app.open_incident_for(self.function_id)

    def action_logs(self) -> None:
        """The selected span's log records (else its service around the span's time)."""
        from console.tui.logview import for_trace
        from console.tui.screens.logs import LogsScreen

        span = self.waterfall.selected
        if span is None:
            return
        target = for_trace(
            span.trace_id,
            span.service,
            span.start_ns,
            span.start_ns + span.duration_ns,
            span_id=span.span_id,
            function_id=self.function_id,
        )
        self.app.push_screen(LogsScreen(target))

    def action_copy_id(self) -> None:
        self.app.copy_to_clipboard(self.trace_id)
        self.notify(f"Copied trace id {self.trace_id}", timeout=2)
