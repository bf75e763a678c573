"""The Callboard application: wiring only — the refresh loop, screens and app-wide keys.

The engine does the I/O. One async worker runs ``fleet.refresh()``; a tick that finds the
previous refresh still running is skipped, so refreshes never overlap and a hanging backend
never blocks a key. Results come back as messages; worker failures become one notification.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.worker import Worker

from console.core.causes import Onsets
from console.core.redact import redact
from console.tui.commands import FunctionsProvider, ViewProvider
from console.tui.fleetview import DEFAULT_WINDOW
from console.tui.guard import LeaveGuardMixin
from console.tui.incidents import IncidentsChanged, IncidentsMixin
from console.tui.messages import SnapshotReady, WorkFailed
from console.tui.safe_render import install as install_safe_render
from console.tui.screens.fleet import FleetScreen
from console.tui.screens.function import FunctionScreen
from console.tui.screens.help import HelpScreen
from console.tui.widgets.status_bar import StatusBar, refreshed_at

if TYPE_CHECKING:
    from console.context import AppContext
    from console.core.snapshot import FleetSnapshot
    from console.engine.fleet import Fleet
    from console.engine.incidents import Incident
    from console.engine.store import Store
    from console.tui.receiver import Receiver


class CallboardApp(LeaveGuardMixin, IncidentsMixin):
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

    paused: reactive[bool] = reactive(False)

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
        #: Tune the process's garbage collector after the first paint (the real app: the
        #: CLI sets it; tests leave the collector of their process alone).
        self.tune_gc = tune_gc
        self.fleet = fleet
        #: Store, secrets and runbook folders for the runbook runner (the CLI passes its own;
        #: without one the runner records runs in an in-memory store).
        self.context = context
        #: Incidents and their timelines (None: no incident keys; the recorder stays off).
        self.store = store
        self.incidents: list[Incident] = []
        self.refresh_interval = refresh_interval
        self.window = window
        self.owns_fleet = owns_fleet
        self.snapshot: FleetSnapshot | None = None
        self._refresh: Worker[None] | None = None
        self._gc_frozen = False
        self.receiver: Receiver | None = None
        #: What the header says about the OTLP receiver: (text, ok), or None.
        self.receiver_note: tuple[str, bool] | None = None
        self.theme = "textual-dark"
        #: Each backend's state at the last refresh (name → ok), to notify a change once.
        self._backend_ok: dict[str, bool] = {}
        #: The palette's screenshot: Downloads if it exists (None: platformdirs' answer),
        #: else the state dir; ``paths_env`` stands in for the environment (tests).
        self.downloads_dir: Path | None = None
        self.paths_env: Mapping[str, str] | None = None
        #: When each finding first appeared this session (the cause lines' onsets).
        self.onsets = Onsets()
        #: ctrl+r asked for a refresh: show it even while paused.
        self._show_next = False

    @property
    def env(self) -> tuple[str, bool, bool]:
        f = self.fleet
        return f.environment, f.production, f.read_only

    def get_default_screen(self) -> FleetScreen:
        env, prod, ro = self.env
        return FleetScreen(env, production=prod, read_only=ro, window=self.window)

    def on_mount(self) -> None:
        self.watch_theme(self.theme)  # the first theme's row colours (no change event)
        self.set_interval(self.refresh_interval, self._tick)
        self._tick()
        self.reload_incidents()
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
        self._bars(receiver=self.receiver_note)

    async def on_unmount(self) -> None:
        if self.receiver is not None:
            await self.receiver.stop()
        if self.owns_fleet:
            await self.fleet.aclose()

    # -- refresh -----------------------------------------------------------------------

    def _tick(self) -> None:
        if self.paused:
            return
        if self._refresh is not None and self._refresh.is_running:
            self._bars(refreshing=True)  # skipped: the last refresh is still running
            return
        self._refresh = self.refresh_fleet()

    @work(group="refresh", exit_on_error=False)
    async def refresh_fleet(self) -> None:
        """One fleet refresh; the snapshot comes back as a message."""
        try:
            snapshot = await self.fleet.refresh()
        except Exception as exc:
            self.post_message(WorkFailed("Refresh", exc))
            return
        self.post_message(SnapshotReady(snapshot))

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self.snapshot = message.snapshot
        self.onsets.update(message.snapshot)
        self._note_backends(message.snapshot)
        self._bars(refreshing=False)
        if not self.paused or self._show_next:
            self._show(message.snapshot)  # ctrl+r shows its refresh even while paused
        self._show_next = False
        self.record_after_refresh(message.snapshot)
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
        for screen in self.screen_stack:
            show = getattr(screen, "show_snapshot", None)
            if show is not None:
                show(snapshot)

    def _note_backends(self, snapshot: FleetSnapshot) -> None:
        """Say once, with its error, when a backend turns failing (or is first seen failing)."""
        for b in snapshot.backends:
            was = self._backend_ok.get(b.name)
            self._backend_ok[b.name] = b.ok
            if b.ok or was is False or b.error is None:
                continue
            self.notify(
                f"{b.name} is failing: {redact(b.error)} — b shows every backend",
                title="Backend failing",
                severity="error",
                timeout=10,
            )

    def on_incidents_changed(self, message: IncidentsChanged) -> None:
        """The incident bars (the mixin) and the fleet's "what is on fire" strip."""
        super().on_incidents_changed(message)
        self.fleet_screen.show_fire()

    def on_work_failed(self, message: WorkFailed) -> None:
        """The one place a worker's failure becomes something the user sees (and the log)."""
        err = message.error
        logging.getLogger("callboard.tui").error("%s failed: %r", message.what, err)
        self.notify(
            f"{message.what} failed: {err or type(err).__name__}", severity="error", timeout=8
        )

    def _bars(self, **values: object) -> None:
        """Set these attributes on every screen's header."""
        for screen in self.screen_stack:
            for bar in screen.query(StatusBar):
                for name, value in values.items():
                    setattr(bar, name, value)

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
        self._bars(paused=paused)
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
        from console.tui.screens.backends import BackendsScreen

        if isinstance(self.screen, BackendsScreen):
            return
        snap = self.snapshot
        at = refreshed_at(snap.generated_at) if snap is not None else None
        unmatched = snap.unmatched_alerts if snap is not None else ()
        failing = self.fleet_screen.failing if snap is not None else []
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
        self.leave_runs(lambda: self._open_function(function_id), f"open {function_id}")

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
