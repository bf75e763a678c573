"""The log records of a function, a trace or a span (``l``), following live.

Every query runs in a worker over every log source at once (``fleet.find_logs``): the
screen never waits on one. While following (the default; ``f`` pauses) a timer starts one
poll every :attr:`LogsScreen.follow_every` seconds — never a second while one is still
out — asking for records from just before the newest shown; new ones are added in time
order, and the cursor stays on the last row if it was there. ``/`` filters what is shown
(level, service, message, attribute values); Enter or moving shows the whole record below.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Static

from console.core.logmodel import LogQuery, LogRecord
from console.tui import logview
from console.tui.messages import WorkFailed
from console.tui.screens.base import CallboardScreen
from console.tui.widgets.row_table import RowTable
from console.tui.widgets.status_bar import status_bar_for

RED = "#ff6b6b"
#: A poll looks this far before the newest record shown (late arrivals; keys drop repeats).
SLACK_NS = 30 * 10**9
#: Records kept on screen at most while following (the oldest go first).
MAX_KEPT = 5_000


@dataclass
class LogsFound(Message):
    """``fleet.find_logs`` answered (``failed``: the query itself broke)."""

    records: list[LogRecord]
    errors: dict[str, str]
    asked: list[str]
    poll: bool
    generation: int = 0
    fallback: bool = False
    failed: str | None = None


class LogsScreen(CallboardScreen):
    """The records of ``target``, oldest first, following live."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "app.help", "Help", key_display="?"),
        Binding("escape,backspace", "back", "Back"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("f", "follow", "Follow/pause"),
        Binding("e", "errors_only", "Errors only"),
        Binding("ctrl+r", "reload", "Reload"),
        Binding("y", "copy", "Copy message"),
        Binding("p", "app.toggle_pause", "Pause", show=False),
    ]
    DEFAULT_CSS = """
    LogsScreen #logs-title { height: auto; padding: 0 1; background: $surface; }
    LogsScreen #logs-table { height: 1fr; }
    LogsScreen #logs-detail {
        height: auto; max-height: 40%; padding: 0 1; border-top: solid $panel-lighten-2;
    }
    LogsScreen #logs-info { height: auto; padding: 0 1; background: $surface; }
    """

    #: Seconds between two follow polls.
    follow_every: ClassVar[float] = 2.0

    def __init__(self, target: logview.LogTarget) -> None:
        super().__init__()
        self.target = target
        self.records: list[LogRecord] = []
        self.shown: list[LogRecord] = []
        self.keys: set[tuple[int, str, str, str]] = set()
        self.filter = ""
        self.errors_only = False
        self.follow = True
        self.loading = False
        self.polling = False
        #: Bumped by each reload: a poll asked before it (another query: errors only or
        #: not) is dropped when it answers.
        self.generation = 0
        #: The query answered by the fallback (the service around the time), not the ids.
        self.fell_back = False
        self.level_styles: dict[str, str] = {}
        self._timer: Timer | None = None
        self._last: LogsFound | None = None

    def compose(self) -> ComposeResult:
        bar = status_bar_for(self.app)
        if bar is not None:
            yield bar
        yield Static(id="logs-title")
        yield RowTable(id="logs-table", cursor_type="row", zebra_stripes=False)
        yield Static(id="logs-detail")
        yield Input(placeholder="filter: text in level, service, message — Esc clears", id="filter")
        yield Static(id="logs-info")
        yield Footer()

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one(DataTable)

    def on_mount(self) -> None:
        self.query_one("#filter").display = False
        self.level_styles = logview.level_styles(self.app.get_css_variables())
        self.watch(self.app, "theme", self._theme_changed, init=False)
        t = self.table
        t.add_column("time (UTC)", key="time", width=12)
        t.add_column("level", key="level", width=5)
        t.add_column("service", key="service", width=16)
        t.add_column("message", key="message")
        t.focus()
        self._timer = self.set_interval(self.follow_every, self.tick)
        self.action_reload()

    def _theme_changed(self) -> None:
        self.level_styles = logview.level_styles(self.app.get_css_variables())
        self._refill()

    # -- asking --------------------------------------------------------------------------

    def _query(self) -> LogQuery:
        """The query shown now: the fallback's once it answered, else the target's (its
        ``errors_only`` is set by ``_search``)."""
        return (
            self.target.fallback if self.fell_back and self.target.fallback else self.target.query
        )

    def action_reload(self) -> None:
        self.generation += 1
        self.loading = True
        self.fell_back = False
        self._title()
        self.query_one("#logs-info", Static).update(Text("loading logs…", style="italic"))
        self.load(self.target.query)

    def tick(self) -> None:
        """One follow poll (the timer's; skipped when paused, loading or one is out)."""
        if not self.follow or self.loading or self.polling:
            return
        newest = self.records[-1].time_ns if self.records else None
        self.polling = True
        self.poll(logview.following(self._query(), newest, SLACK_NS))

    @work(group="logs-load", exclusive=True, exit_on_error=False)
    async def load(self, query: LogQuery) -> None:
        """The first answer (and each reload): a new one replaces one still running."""
        await self._search(query, poll=False)

    @work(group="logs-poll", exit_on_error=False)
    async def poll(self, query: LogQuery) -> None:
        """One follow poll (at most one is out: ``tick`` waits for its answer)."""
        await self._search(query, poll=True)

    async def _search(self, query: LogQuery, poll: bool) -> None:
        """Ask every log source; the fallback too when the ids found nothing."""
        generation = self.generation
        fleet = self.app.fleet
        asked = fleet.log_sources()
        query = replace(query, errors_only=self.errors_only)
        try:
            found = await fleet.find_logs(query)
            fallback = self.target.fallback
            used_fallback = self.fell_back and poll
            if not found and not poll and fallback is not None:
                found = await fleet.find_logs(replace(fallback, errors_only=self.errors_only))
                used_fallback = True
        except Exception as exc:
            self.post_message(WorkFailed("Log search", exc))
            failed = str(exc) or type(exc).__name__
            self.post_message(LogsFound([], {}, asked, poll, generation, failed=failed))
            return
        errors = dict(fleet.log_errors)
        self.post_message(LogsFound(found, errors, asked, poll, generation, used_fallback))

    @on(LogsFound)
    def _found(self, m: LogsFound) -> None:
        if m.poll:
            self.polling = False
            if m.generation != self.generation:
                return  # asked before a reload: its query is not the one shown now
            self._last = m
            self._merge(m.records)
        else:
            self._last = m
            self.loading = False
            self.fell_back = m.fallback
            self.records, self.keys = [], set()
            self._merge(m.records, refill=True)
            self._title()  # a poll changes none of it (fallback, errors only, following)
        self._info()

    def _merge(self, found: list[LogRecord], *, refill: bool = False) -> None:
        """Add the records not seen yet, in time order; the rows follow."""
        fresh = [r for r in found if r.key() not in self.keys]
        if not fresh and not refill:
            return
        for r in fresh:
            self.keys.add(r.key())
        fresh.sort(key=lambda r: r.time_ns)
        in_order = not (fresh and self.records) or fresh[0].time_ns >= self.records[-1].time_ns
        self.records.extend(fresh)
        if not in_order:
            self.records.sort(key=lambda r: r.time_ns)
        if len(self.records) > MAX_KEPT:
            del self.records[: len(self.records) - MAX_KEPT]
            refill = True
        if refill or not in_order:
            self._refill()
            return
        t = self.table
        at_end = t.row_count == 0 or t.cursor_row >= t.row_count - 1
        for r in fresh:
            if self._visible(r):
                self.shown.append(r)
                t.add_row(*logview.cells(r, self.level_styles))
        if at_end and t.row_count:
            t.move_cursor(row=t.row_count - 1)

    def _visible(self, r: LogRecord) -> bool:
        return logview.matches(r, self.filter)

    def _refill(self) -> None:
        t = self.table
        t.clear()
        self.shown = [r for r in self.records if self._visible(r)]
        for r in self.shown:
            t.add_row(*logview.cells(r, self.level_styles))
        if self.shown:
            t.move_cursor(row=len(self.shown) - 1)  # the newest, as a log tail
        self._detail()

    # -- text ----------------------------------------------------------------------------

    def _title(self) -> None:
        out = Text(self.target.title, style="bold")
        if self.fell_back and self.target.fallback is not None:
            fb = self.target.fallback
            out.append(f"   no record carries the id: {fb.service} around its time", style="dim")
        if self.errors_only:
            out.append("   errors only", style=f"bold {RED}")
        out.append("   following" if self.follow else "   paused", style="dim")
        self.query_one("#logs-title", Static).update(out)

    def _info(self) -> None:
        m = self._last
        out = Text()
        if m is None:
            return
        if m.failed:
            out.append(f"Log search failed: {m.failed}", style=f"bold {RED}")
        elif not self.records:
            out.append("No log records", style="bold")
            out.append(f" (asked: {', '.join(m.asked) or 'no log source configured'})", "dim")
        else:
            errors = sum(1 for r in self.records if r.is_error)
            out.append(f"{len(self.records)} records", style="bold")
            out.append(f", {errors} errors" if errors else ", no errors")
            if self.filter:
                out.append(f"   {len(self.shown)} match ", style="dim")
                out.append(self.filter, style="bold")
            out.append(f"   from {', '.join(m.asked)}", style="dim")
        for name, err in m.errors.items():
            out.append(f"\n{name} failed: {err}", style=RED)
        self.query_one("#logs-info", Static).update(out)

    @property
    def current(self) -> LogRecord | None:
        """The record under the cursor."""
        t = self.table
        if not self.shown or t.row_count == 0:
            return None
        return self.shown[min(t.cursor_row, len(self.shown) - 1)]

    def _detail(self) -> None:
        r = self.current
        self.query_one("#logs-detail", Static).update(logview.detail(r) if r else Text())

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._detail()

    # -- keys ----------------------------------------------------------------------------

    def action_back(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display:  # Esc in the filter box closes it first
            self.action_clear_filter()
            return
        self.app.pop_screen()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.table.focus()
        self.set_filter("")

    def set_filter(self, text: str) -> None:
        """Show only the records holding ``text`` (tests and the filter box)."""
        if text == self.filter:
            return
        self.filter = text
        self._refill()
        self._info()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            event.input.display = False
        self.table.focus()

    def action_follow(self) -> None:
        self.follow = not self.follow
        self._title()

    def action_errors_only(self) -> None:
        self.errors_only = not self.errors_only
        self.action_reload()

    def action_copy(self) -> None:
        r = self.current
        if r is not None:
            self.app.copy_to_clipboard(r.body)
            self.notify("Copied the message", timeout=2)
