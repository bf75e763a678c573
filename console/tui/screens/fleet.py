"""The fleet screen: every function, unhealthy first, updated in place on each refresh."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Input, Static

from console.core.onfire import OnFire, burn_1h, on_fire
from console.core.snapshot import FleetSnapshot, FunctionHealth
from console.tui.fleetview import (
    BY_KEY,
    COLUMN_KEYS,
    ViewOptions,
    build_rows,
    is_group,
    prepare_filter,
    valid_regex,
)
from console.tui.health import Failing
from console.tui.screens.base import CallboardScreen
from console.tui.widgets.backend_banner import BackendBanner
from console.tui.widgets.fire_strip import FireStrip, strip_text
from console.tui.widgets.fleet_table import FleetTable
from console.tui.widgets.incident_bar import IncidentBar
from console.tui.widgets.status_bar import StatusBar


class FleetScreen(CallboardScreen):
    """The home screen. Holds the view options; follows the app's shown snapshot."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # First, so an 80-column footer still shows it (the app's own ? comes last).
        Binding("question_mark", "app.help", "Help", key_display="?"),
        Binding("enter", "open", "Open", show=True),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("s", "sort_next", "Sort"),
        Binding("S", "sort_reverse", "Reverse", show=False),
        Binding("u", "only_unhealthy", "Unhealthy only"),
        Binding("g", "group_by_owner", "Group by owner"),
        Binding("p", "pause", "Pause"),
        Binding("p", "resume", "Resume"),
        Binding("r", "runbook", "Run runbook"),
        Binding("l", "logs", "Logs", show=False),
        Binding("y", "copy_id", "Copy id"),
        Binding("I", "app.show_timeline", "Incident"),
        Binding("ctrl+r", "app.refresh_now", "Refresh", show=False),
    ]

    def __init__(
        self, environment: str, *, production: bool, read_only: bool, window: int | None
    ) -> None:
        super().__init__(id="fleet-screen")
        self._bar_args = (environment, production, read_only)
        self.options = ViewOptions(window=window)
        self.snapshot: FleetSnapshot | None = None
        # what is on fire in ``snapshot``: worked out once per refresh, not per incident change
        self._fire: tuple[FleetSnapshot, OnFire] | None = None
        #: The backends failing at the last refresh (the banner's lines).
        self.failing: list[Failing] = []
        #: The functions of the current view, in order (rows without group headers).
        self.view_order: list[FunctionHealth] = []

    def compose(self) -> ComposeResult:
        env, prod, ro = self._bar_args
        yield StatusBar(env, production=prod, read_only=ro)
        yield IncidentBar()
        yield BackendBanner()
        yield FireStrip()
        yield FleetTable(id="fleet-table")
        yield Input(
            placeholder="filter: text or regex over id, service, owner, F-code — Enter keeps it, Esc clears",
            id="filter",
        )
        yield Static(Text("Waiting for the first refresh…", style="dim"), id="fleet-info")
        yield Footer()

    @property
    def table(self) -> FleetTable:
        return self.query_one(FleetTable)

    def on_mount(self) -> None:
        self.query_one("#filter").display = False
        self.table.focus()
        self.watch(self.app, "shown", self.show_snapshot, init=False)
        self.watch(self.app, "incidents", self.show_fire, init=False)

    # -- data in -----------------------------------------------------------------------

    def show_snapshot(self, snapshot: FleetSnapshot) -> None:
        """A new refresh: update the header and the rows that changed.

        When the selected function was burning and is healthy now (a cure), the cursor
        goes to the most urgent row still burning instead of following the healed row
        down to the healthy ones."""
        healed = self._was_burning(self.table.cursor_key)
        self.snapshot = snapshot
        self.failing = list(self.app.health.failing)  # the banner follows it itself
        self.show_fire()
        self.render_view()
        if healed is not None and not self._was_burning(healed):
            self._to_worst_burning()

    def _was_burning(self, key: str | None) -> str | None:
        """``key`` when that function has a finding in the current snapshot, else None."""
        if key is None or self.snapshot is None:
            return None
        h = next((h for h in self.snapshot.functions if h.id == key), None)
        return key if h is not None and h.findings else None

    def _to_worst_burning(self) -> None:
        """Put the cursor on the most urgent burning row shown (pages, then the fastest
        burn, then id), scrolled into view; stay put when nothing burns any more."""
        shown = [h for h in self.view_order if h.findings and h.id in self.table.rows]
        if not shown:
            return
        worst = min(shown, key=lambda h: (h.worst_severity_rank, -(burn_1h(h) or 0.0), h.id))
        row = self.table.get_row_index(worst.id)
        self.table.move_cursor(row=row, scroll=False)
        # After the table's own keep-the-line scroll, queued by apply() for the same refresh.
        self.table.call_after_refresh(self.table.move_cursor, row=row, scroll=True)

    def show_fire(self) -> None:
        """The "what is on fire" strip for the current snapshot and active incidents."""
        strip = self.query_one(FireStrip)
        strip.display = bool(self.snapshot and self.snapshot.functions)
        snap = self.snapshot
        if snap is not None:
            if self._fire is None or self._fire[0] is not snap:
                self._fire = (snap, on_fire(snap.functions))
            strip.update(strip_text(self._fire[1], self.app.incidents))

    def render_view(self, *, resorted: bool = False) -> None:
        """Re-apply the current options to the current snapshot (``resorted``: the user
        changed the order, so the top of the new order is shown)."""
        if self.snapshot is None:
            return
        view = build_rows(self.snapshot, self.options)
        self.view_order = view.order
        self.table.apply(view.entries, resorted=resorted)
        self.query_one("#fleet-info", Static).update(
            self._info(view.total, view.matched, view.unhealthy, len(view.order))
        )

    def _info(self, total: int, matched: int, unhealthy: int, shown: int) -> Text:
        o = self.options
        out = Text()
        blind = [f.name for f in self.failing if f.inventory]
        if total == 0 and blind:
            # Not a healthy, empty fleet: the function list did not arrive.
            out.append(f"no data from {', '.join(blind)}", style="bold #ff6b6b")
            out.append(" — its functions are unknown, not healthy (b: backends)", style="dim")
            return out
        if matched == total:
            out.append(f"{total:,} functions", style="bold")
        else:
            out.append(f"{matched:,} of {total:,} functions", style="bold")
        if shown < matched:
            out.append(f" (first {shown:,} shown — narrow with /)", style="#e5c07b")
        out.append(f" · {unhealthy:,} unhealthy", style="#ff6b6b" if unhealthy else "#6a9955")
        if blind:
            out.append(f" · list as of {', '.join(blind)}'s last answer", style="#e5c07b")
        col = BY_KEY[o.sort]
        arrow = "▼" if col.descending != o.reverse else "▲"
        out.append(f" · sorted by {col.label} {arrow}", style="dim")
        if o.filter:
            out.append(" · filter ", style="dim")
            out.append(o.filter, style="bold")
            if not valid_regex(o.filter):
                out.append(" (invalid regex — substring match)", style="#e5c07b")
        if o.only_unhealthy:
            out.append(" · unhealthy only", style="dim")
        if o.group_by_owner:
            out.append(" · grouped by owner", style="dim")
        return out

    def _set(self, **changes: object) -> None:
        self.options = replace(self.options, **changes)  # type: ignore[arg-type]
        self.table.set_sort_indicator(self.options.sort, self.options.reverse)
        self.render_view(resorted=True)

    # -- keys --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``p`` reads Pause while live and Resume while paused (one of its two bindings
        shows; the app calls ``refresh_bindings`` when the state flips)."""
        if action in ("pause", "resume"):
            return (action == "resume") == self.app.paused
        return True

    def action_pause(self) -> None:
        self.app.action_toggle_pause()

    def action_resume(self) -> None:
        self.app.action_toggle_pause()

    def action_open(self) -> None:
        key = self.table.cursor_key
        if key is not None:
            self.app.open_function(key)

    @on(FleetTable.RowSelected)
    def _row_selected(self, event: FleetTable.RowSelected) -> None:
        event.stop()
        key = event.row_key
        if not is_group(key):  # a group-by-owner header opens nothing
            self.app.open_function(key)

    @on(FleetTable.HeaderSelected)
    def _header_selected(self, event: FleetTable.HeaderSelected) -> None:
        event.stop()
        key = event.column_key
        if key == self.options.sort:
            self._set(reverse=not self.options.reverse)
        else:
            self._set(sort=key, reverse=False)

    def action_sort_next(self) -> None:
        i = COLUMN_KEYS.index(self.options.sort)
        self._set(sort=COLUMN_KEYS[(i + 1) % len(COLUMN_KEYS)], reverse=False)

    def action_sort_reverse(self) -> None:
        self._set(reverse=not self.options.reverse)

    def sort_by(self, key: str) -> None:
        """Sort by column ``key`` (from the palette)."""
        self._set(sort=key, reverse=False)

    def action_only_unhealthy(self) -> None:
        self._set(only_unhealthy=not self.options.only_unhealthy)

    def action_group_by_owner(self) -> None:
        self._set(group_by_owner=not self.options.group_by_owner)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()
        if self.snapshot is not None:  # while the box opens, not on the first key
            prepare_filter(self.snapshot.functions)

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.table.focus()
        if self.options.filter:
            self._set(filter="")

    def set_filter(self, text: str) -> None:
        """Filter rows by ``text`` (also used by tests and the palette)."""
        box = self.query_one("#filter", Input)
        box.display = bool(text)
        box.value = text
        self._set(filter=text)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if event.value != self.options.filter:
            self._set(filter=event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            event.input.display = False
        self.table.focus()

    def key_escape(self) -> None:
        # Esc inside the filter box clears it too (the Input would otherwise swallow it).
        self.action_clear_filter()

    def action_runbook(self) -> None:
        """Run the selected function's worst finding's runbook."""
        key = self.table.cursor_key
        if key is not None:
            self.app.open_runbooks(key)

    def action_logs(self) -> None:
        """The selected function's log records (its service, the last 15 minutes)."""
        from console.tui.logview import for_function
        from console.tui.screens.logs import LogsScreen

        key = self.table.cursor_key
        health = self.snapshot.by_id().get(key) if key and self.snapshot else None
        if health is not None:
            fn = health.function
            now_ns = int(self.app.fleet.clock() * 1e9)
            self.app.push_screen(LogsScreen(for_function(fn.id, fn.service, now_ns)))

    def action_copy_id(self) -> None:
        key = self.table.cursor_key
        if key is not None:
            self.app.copy_to_clipboard(key)
            self.notify(f"Copied {key}", timeout=2)

    def select(self, function_id: str) -> bool:
        """Move the cursor to ``function_id`` if it is shown; clears a hiding filter first."""
        if function_id not in self.table.rows and self.options.filter:
            self.set_filter("")
        if function_id not in self.table.rows:
            return False
        self.table.move_cursor(row=self.table.get_row_index(function_id))
        return True
