"""The Callboard application: wiring only — the refresh loop, screens and app-wide keys.

The engine does the I/O. One async worker runs ``fleet.refresh()``; a tick that finds the
previous refresh still running is skipped, so refreshes never overlap and a hanging backend
never blocks a key. Results come back as messages; worker failures become one notification.

The console's state is declared on its base, :class:`~console.tui.state.ConsoleApp` (the
type screens and widgets give ``self.app``), as reactive attributes they watch; this module
sets it and implements the navigation the base declares. Nothing is pushed down.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import Worker

from console.core.causes import Onsets
from console.core.gcpause import gc_paused
from console.core.redact import redact
from console.core.snapshot import FleetSnapshot
from console.engine.incidents.service import IncidentService
from console.tui import incident_keys
from console.tui.commands import FunctionsProvider, ViewProvider
from console.tui.dialogs.help import HelpScreen
from console.tui.fleetview import DEFAULT_WINDOW
from console.tui.follow import StoreFollowed, StoreWatch
from console.tui.guard import LEAVE_WAIT_S, LeaveGuard
from console.tui.health import read_health, turned_failing, unanswered
from console.tui.incidents import IncidentDesk
from console.tui.messages import IncidentsChanged, IncidentWritten, SnapshotReady, WorkFailed
from console.tui.safe_render import install as install_safe_render
from console.tui.screens.fleet import FleetScreen
from console.tui.screens.function import FunctionScreen
from console.tui.state import ConsoleApp
from console.tui.widgets.status_bar import refreshed_at

if TYPE_CHECKING:
    from console.context import AppContext
    from console.engine.fleet.refresh import Fleet
    from console.engine.store.base import StoreLike as Store
    from console.tui.receiver import Receiver


class CallboardApp(ConsoleApp):
    """The console. Tests inject a ``Fleet`` (with its own clock) and a long interval."""

    CSS_PATH = "callboard.tcss"
    TITLE = "Callboard"
    COMMANDS = App.COMMANDS | {FunctionsProvider, ViewProvider}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+r", "refresh_now", "Refresh", show=False),
        Binding("b", "backends", "Backends", show=False),
    ]

    #: Seconds to wait for a cancelled run when leaving (tests set 0: abandon it at once).
    leave_wait_s: float = LEAVE_WAIT_S

    def __init__(
        self,
        fleet: Fleet,
        *,
        refresh_interval: float = 5.0,
        window: int | None = DEFAULT_WINDOW,
        owns_fleet: bool = False,
        context: AppContext | None = None,
        store: Store | None = None,
        tune_gc: bool = False,
    ) -> None:
        super().__init__()
        install_safe_render()  # no widget's text can send a control byte to the terminal
        #: Tune the process's garbage collector (the real app: the CLI sets it; tests leave
        #: the collector of their process alone): from here on and after the first paint.
        self.tune_gc = tune_gc
        if tune_gc:
            # What is loaded by now (modules, the config, the fleet's backends) lives as
            # long as the app: out of every later collection. And young collections as
            # rare as after the first paint (see on_snapshot_ready) from the start: the first
            # refresh of a big fleet makes a few hundred thousand long-lived objects, and
            # the default thresholds had the collector walk them in a young, a middle and a
            # full collection (~100 ms at 10,000 functions) before they were frozen.
            gc.freeze()
            gc.set_threshold(50_000, 20, 20)
        self.fleet = fleet
        #: Store, secrets and runbook folders for the runbook runner (the CLI passes its own;
        #: without one the runner records runs in an in-memory store).
        self.context = context
        self.desk = None
        self.store = store
        self.leave_guard = LeaveGuard(self)
        self.refresh_interval = refresh_interval
        self.window = window
        self.owns_fleet = owns_fleet
        self._refresh: Worker[None] | None = None
        self._gc_frozen = False
        self._gc_first = tune_gc
        self.receiver: Receiver | None = None
        self.theme = "textual-dark"
        #: The palette's screenshot: Downloads if it exists (None: platformdirs' answer),
        #: else the state dir; ``paths_env`` stands in for the environment (tests).
        self.downloads_dir: Path | None = None
        self.paths_env: Mapping[str, str] | None = None
        #: When each finding first appeared this session (the cause lines' onsets).
        self.onsets = Onsets()
        #: ctrl+r asked for a refresh: show it even while paused.
        self._show_next = False

    @property
    def store(self) -> Store | None:
        """Incidents and their timelines (None: no incident keys; the recorder stays off)."""
        return self._store

    @store.setter
    def store(self, store: Store | None) -> None:
        self._store = store
        service = (
            IncidentService(store, clock=self.fleet.clock, environment=self.fleet.environment)
            if store is not None
            else None
        )
        self.desk = (
            IncidentDesk(self, service, self.fleet, lambda: self.snapshot) if service else None
        )
        #: Follows the store: other processes' notes, runs and role changes (live together).
        self.watcher = StoreWatch(self, store) if store is not None else None

    def get_default_screen(self) -> FleetScreen:
        env, prod, ro = self.env
        return FleetScreen(env, production=prod, read_only=ro, window=self.window)

    def on_mount(self) -> None:
        self.watch_theme(self.theme)  # the first theme's row colours (no change event)
        self.set_interval(self.refresh_interval, self._tick)
        self._tick()
        if self.desk is not None:
            self.desk.reload()
        if self.watcher is not None:
            self.watcher.start()
        if self.context is not None:
            self.run_receiver()

    @work(group="otlp-receiver", exit_on_error=False)
    async def run_receiver(self) -> None:
        """Receive OTLP spans while the console is open; the header says where (or why not)."""
        from console.tui.receiver import start_receiver

        assert self.context is not None
        try:
            self.receiver, note, ok = await start_receiver(self.context)
        except Exception as exc:  # the receiver is a convenience: never take the app down
            self.receiver, note, ok = None, f"OTLP receiver failed: {exc}", False
        self.receiver_note = (note, ok) if note else None

    async def on_unmount(self) -> None:
        if self.watcher is not None:
            await self.watcher.stop()
        if self.receiver is not None:
            await self.receiver.stop()
        if self.owns_fleet:
            await self.fleet.aclose()

    # -- refresh -----------------------------------------------------------------------

    def _tick(self) -> None:
        if self.paused:
            return
        if self._refresh is not None and self._refresh.is_running:
            if self.snapshot is None:  # the first load: who it still waits on
                self.health = replace(self.health, waiting=unanswered(self.fleet.backends))
            self.refreshing = True  # skipped: the last refresh is still running
            return
        self._refresh = self.refresh_fleet()

    @work(group="refresh", exit_on_error=False)
    async def refresh_fleet(self) -> None:
        """One fleet refresh; the snapshot comes back as a message."""
        try:
            # The first refresh of a tuned app makes what the app keeps (a big fleet's
            # functions, its first snapshot): no collection walks it while it is made, and
            # it is frozen when it is done, as everything is after the first paint. Only
            # the first: one that fails is not repeated paused.
            first, self._gc_first = self._gc_first, False
            with gc_paused(first, freeze=True):
                snapshot = await self.fleet.refresh()
        except Exception as exc:
            self.post_message(WorkFailed("Refresh", exc))
            return
        self.post_message(SnapshotReady(snapshot))

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self._note_backends(self.snapshot, message.snapshot)
        self.snapshot = message.snapshot
        self.onsets.update(message.snapshot)
        self.refreshing = False
        if not self.paused or self._show_next:
            self._show(message.snapshot)  # ctrl+r shows its refresh even while paused
        self._show_next = False
        if self.desk is not None:
            self.desk.record_after_refresh(message.snapshot)
        if self.tune_gc and not self._gc_frozen:
            # Everything alive after the first paint (modules, widgets, the fleet's functions)
            # lives as long as the app: keep it out of every later garbage collection, so
            # the collections that each refresh's garbage triggers stay short.
            gc.freeze()
            # Each refresh allocates ~10 objects per function; collecting young objects
            # every 50,000 allocations instead of 700 cuts the pauses a refresh causes.
            gc.set_threshold(50_000, 20, 20)
            self._gc_frozen = True

    def _show(self, snapshot: FleetSnapshot) -> None:
        """Put ``snapshot`` on screen: the backends' health first (the banner and the fleet's
        info line read it), then ``shown``, which every screen and header watches."""
        self.health = read_health(self.fleet.backends, snapshot)
        self.shown = snapshot

    def _note_backends(self, before: FleetSnapshot | None, after: FleetSnapshot) -> None:
        """Say once, with its error, when a backend turns failing (or is first seen failing)."""
        for b in turned_failing(before, after):
            assert b.error is not None
            self.notify(
                f"{b.name} is failing: {redact(b.error)} — b shows every backend",
                title="Backend failing",
                severity="error",
                timeout=10,
            )

    # -- incidents ---------------------------------------------------------------------

    def on_incidents_changed(self, message: IncidentsChanged) -> None:
        """The incidents changed: the bars, the fire strip and the timelines watch them."""
        was_empty = not self.incidents
        self.incidents = message.incidents
        if was_empty and self.incidents and self.snapshot is not None and self.desk is not None:
            self.desk.record_after_refresh(self.snapshot)  # a new incident: what is wrong now

    def on_incident_written(self, message: IncidentWritten) -> None:
        """A change made here: say so, re-read the incidents, tell the dashboards."""
        if message.said is not None:
            self.notify(message.said, timeout=message.timeout)
        if self.desk is not None:
            self.desk.reload()
            if message.incident is not None and message.annotation is not None:
                self.desk.annotate(message.incident, message.annotation)

    def on_store_followed(self, message: StoreFollowed) -> None:
        """Another process wrote to the store: re-read the incidents (the open timeline
        follows them) and say quietly who did what."""
        if self.desk is not None:
            self.desk.reload()
        if self.watcher is not None:
            for text in self.watcher.notices(message.events):
                self.notify(redact(text), title="Team", timeout=5, markup=False)  # outside text

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if self.desk is not None:
            self.desk.worker_changed(event.worker)

    def open_incident_for(self, function_id: str) -> None:
        """``i`` on a function: its open incident's timeline, or a dialog to open one."""
        incident_keys.open_incident_for(self, function_id)

    def action_show_timeline(self) -> None:
        """``I``: the newest open incident's timeline."""
        incident_keys.show_timeline(self)

    def open_runbooks(self, function_id: str) -> None:
        """``r`` on a function: the runner for its worst finding (or a picker, or why not)."""
        from console.tui.dialogs.pick_runbook import open_runbooks

        open_runbooks(self, function_id)

    def on_work_failed(self, message: WorkFailed) -> None:
        """The one place a worker's failure becomes something the user sees (and the log)."""
        err = message.error
        logging.getLogger("callboard.tui").error("%s failed: %r", message.what, err)
        self.notify(
            f"{message.what} failed: {err or type(err).__name__}", severity="error", timeout=8
        )

    def get_css_variables(self) -> dict[str, str]:
        """The theme's variables plus the production header's (readable in every theme)."""
        from console.tui.theme_colours import production_header

        variables = super().get_css_variables()
        variables.update(production_header(variables))
        return variables

    def watch_theme(self, theme: str) -> None:
        """Row severity colours follow the theme, made readable (AA) on its background."""
        from console.tui import cells
        from console.tui.theme_colours import severity_styles

        cells.SEVERITY_STYLE.update(severity_styles(self.get_css_variables()))
        if self.snapshot is not None and not self.paused:
            self._show(self.snapshot)  # re-colour the rows (a diff: only the styles change)

    def watch_paused(self, paused: bool) -> None:
        for screen in self.screen_stack:
            screen.refresh_bindings()  # the footer's p: Pause ↔ Resume
        if not paused and self.snapshot is not None:
            self._show(self.snapshot)

    # -- actions -----------------------------------------------------------------------

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self.notify("Live refresh paused" if self.paused else "Live refresh resumed", timeout=2)

    def action_refresh_now(self) -> None:
        """``ctrl+r``: refresh now; while paused, this one refresh is shown (still paused)."""
        if self.paused:
            self._show_next = True
            self.notify("Paused: showing this one refresh (p resumes live refresh)", timeout=3)
        if self._refresh is None or not self._refresh.is_running:
            self._refresh = self.refresh_fleet()

    def action_backends(self) -> None:
        """Each backend's state, error, latency, warnings and age (``b``)."""
        from console.tui.dialogs.backends import BackendsScreen

        if isinstance(self.screen, BackendsScreen):
            return
        snap = self.snapshot
        at = refreshed_at(snap.generated_at) if snap is not None else None
        unmatched = snap.unmatched_alerts if snap is not None else ()
        failing = list(self.health.failing) if snap is not None else []
        self.push_screen(
            BackendsScreen(snap.backends if snap is not None else (), at, unmatched, failing)
        )

    def deliver_screenshot(
        self,
        filename: str | None = None,
        path: str | None = None,
        time_format: str | None = None,
    ) -> str | None:
        """Save an SVG screenshot where it can be written and say where (Textual's own
        delivery fails when ~/Downloads is missing)."""
        from console.tui.screenshot import default_downloads, screenshot_dir

        if path is None:
            downloads = self.downloads_dir or default_downloads()
            path = str(screenshot_dir(downloads, self.paths_env))
        try:
            saved = self.save_screenshot(filename, path, time_format)
        except OSError as exc:
            self.notify(f"Screenshot not saved: {exc}", severity="error", timeout=8)
            return None
        self.notify(f"Screenshot saved to {saved}", title="Screenshot", timeout=8)
        return saved

    async def action_quit(self) -> None:
        """``q`` / ``ctrl+q``: quit, asking first while a run is in progress."""
        self.leave_guard.leave_runs(self.exit, "quit", self.leave_wait_s)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    @property
    def fleet_screen(self) -> FleetScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, FleetScreen)
        return screen

    def open_function(self, function_id: str) -> None:
        """Show ``function_id``'s screen (from a row, or the palette); a run in progress on
        a runner is not abandoned without asking."""
        if self.snapshot is None:
            return
        self.leave_guard.leave_runs(
            lambda: self._open_function(function_id), f"open {function_id}", self.leave_wait_s
        )

    def _open_function(self, function_id: str) -> None:
        if self.snapshot is None:
            return
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.fleet_screen.select(function_id)
        self.push_screen(FunctionScreen(function_id, self.snapshot, self.env))

    def toggle_unhealthy(self) -> None:
        self.fleet_screen.action_only_unhealthy()

    def toggle_group(self) -> None:
        self.fleet_screen.action_group_by_owner()

    def set_filter(self, text: str) -> None:
        self.fleet_screen.set_filter(text)

    def sort_by(self, key: str) -> None:
        self.fleet_screen.sort_by(key)
