"""Incidents in the TUI: recording each refresh, the active incidents, and opening one.

A mixin for :class:`~console.tui.app.CallboardApp` so the app module stays wiring only.
Every store access runs in a thread worker (SQLite writes must never block a key); results
come back as an :class:`IncidentsChanged` message, which updates every incident bar and
reloads every open timeline screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App
from textual.message import Message
from textual.worker import Worker

from console.core.redact import redact
from console.engine.incidents import (
    Incident,
    add_note,
    list_incidents,
    open_incident,
    record_snapshot,
    set_status,
    snapshot_signals,
)
from console.tui.messages import WorkFailed

if TYPE_CHECKING:
    from console.core.snapshot import FleetSnapshot
    from console.engine.store import Store


@dataclass
class IncidentsChanged(Message):
    """The active (open or mitigated) incidents, newest first, after a store change."""

    incidents: list[Incident]


def iso_at(epoch_s: float) -> str:
    """Unix seconds as the ISO 8601 UTC text events carry (milliseconds, Z)."""
    t = datetime.fromtimestamp(epoch_s, UTC)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class IncidentsMixin(App[None]):
    """Adds incidents to the app. Needs ``self.store`` (None: no incidents) and ``self.fleet``."""

    store: Store | None
    incidents: list[Incident]
    _recorder: Worker[None] | None = None
    _pending_record: FleetSnapshot | None = None

    # -- where things go ---------------------------------------------------------------

    def now_iso(self) -> str:
        """The fleet's clock as event time (tests and the demo run on their own clock)."""
        clock = getattr(getattr(self, "fleet", None), "clock", None)
        return iso_at(clock()) if callable(clock) else iso_at(datetime.now(UTC).timestamp())

    @property
    def export_dir(self) -> Path:
        """Exports go next to the database file (or into the data dir for an in-memory one)."""
        from console import paths

        path = getattr(self.store, "path", ":memory:")
        base = paths.data_dir() if path == ":memory:" else Path(path).parent
        return base / "exports"

    def active_incident(self, function_id: str | None = None) -> Incident | None:
        """The newest open or mitigated incident (on ``function_id`` if given)."""
        for inc in self.incidents:
            if function_id is None or function_id in inc.functions:
                return inc
        return None

    def signals_for(self, functions: tuple[str, ...] | list[str]) -> dict[str, Any] | None:
        """The key signals of ``functions`` in the latest snapshot (None before the first)."""
        snap: FleetSnapshot | None = getattr(self, "snapshot", None)
        return None if snap is None else snapshot_signals(snap, list(functions))

    # -- the recorder ------------------------------------------------------------------

    def record_after_refresh(self, snapshot: FleetSnapshot) -> None:
        """Record ``snapshot`` on the active incidents. While the last write runs, the newest
        snapshot waits and is recorded as soon as that write ends (never two at once)."""
        if self.store is None:
            return
        if self._recorder is not None and self._recorder.is_running:
            self._pending_record = snapshot
            return
        self._pending_record = None
        self._recorder = self.record_and_load(snapshot)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A finished recorder write lets the waiting snapshot through."""
        if event.worker is self._recorder and event.worker.is_finished:
            pending = getattr(self, "_pending_record", None)
            if pending is not None:
                self.record_after_refresh(pending)

    @work(thread=True, group="incidents-record", exit_on_error=False)
    def record_and_load(self, snapshot: FleetSnapshot | None) -> None:
        """Record the refresh on every open incident (the store says which: no race with
        the in-memory list), then reload the active incidents."""
        store = self.store
        if store is None:
            return
        try:
            if snapshot is not None:
                record_snapshot(store, snapshot)
            active = list_incidents(store, active_only=True)
        except Exception as exc:
            self.post_message(WorkFailed("Recording the incident timeline", exc))
            return
        self.post_message(IncidentsChanged(active))

    def reload_incidents(self) -> None:
        """Re-read the active incidents (after a change made from a screen)."""
        if self.store is not None:
            self.record_and_load(None)

    def on_incidents_changed(self, message: IncidentsChanged) -> None:
        from console.tui.screens.timeline import TimelineScreen
        from console.tui.widgets.incident_bar import IncidentBar

        was_empty = not self.incidents
        self.incidents = message.incidents
        now = self.now_iso()
        for screen in self.screen_stack:
            for bar in screen.query(IncidentBar):
                bar.show(self.incidents, now)
            if isinstance(screen, TimelineScreen):
                screen.reload()
        snap: FleetSnapshot | None = getattr(self, "snapshot", None)
        if was_empty and self.incidents and snap is not None:
            self.record_after_refresh(snap)  # a new incident: record what is wrong right now

    # -- actions from screens ------------------------------------------------------------

    def open_incident_for(self, function_id: str) -> None:
        """``i`` on a function: its open incident's timeline, or a dialog to open one."""
        if self.store is None:
            self.notify("Incidents need a database (run without --db :memory:).", timeout=4)
            return
        inc = self.active_incident(function_id)
        if inc is not None:
            self.show_timeline(inc.id)
            return
        from console.tui.screens.incident_dialogs import OpenIncidentScreen, default_title

        snap: FleetSnapshot | None = getattr(self, "snapshot", None)
        health = snap.by_id().get(function_id) if snap is not None else None
        title = default_title(function_id, health)

        def opened(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                self.write_incident(function_id, *answer)

        self.push_screen(OpenIncidentScreen(function_id, title), opened)

    @work(thread=True, group="incidents-write", exit_on_error=False)
    def write_incident(self, function_id: str, title: str, severity: str) -> None:
        """Open the incident (in a thread: it writes SQLite)."""
        assert self.store is not None
        try:
            inc = open_incident(
                self.store,
                title,
                [function_id],
                severity,
                environment=getattr(getattr(self, "fleet", None), "environment", ""),
                signals=self.signals_for([function_id]),
                at=self.now_iso(),
            )
        except Exception as exc:
            self.post_message(WorkFailed("Opening the incident", exc))
            return
        self.call_from_thread(
            self.notify, f"Opened {inc.id} ({inc.severity}): {inc.title} — press i for its timeline"
        )
        self.call_from_thread(self.reload_incidents)
        self.call_from_thread(
            self.post_annotation, inc, f"{inc.id} opened ({inc.severity}): {inc.title}"
        )

    def show_timeline(self, incident_id: str | None = None) -> None:
        """Push the timeline of ``incident_id`` (default: the newest active incident)."""
        from console.tui.screens.timeline import TimelineScreen

        if self.store is None:
            self.notify("Incidents need a database.", timeout=4)
            return
        inc = self.active_incident() if incident_id is None else None
        target = incident_id or (inc.id if inc else None)
        if target is None:
            self.notify("No open incident. Press i on a function to open one.", timeout=4)
            return
        self.push_screen(TimelineScreen(target))

    def action_show_timeline(self) -> None:
        """``I`` on the fleet: the newest open incident's timeline."""
        self.show_timeline()

    @work(thread=True, group="incidents-write", exit_on_error=False)
    def write_note(self, incident: Incident, text: str) -> None:
        """Add a note to ``incident`` (in a thread)."""
        assert self.store is not None
        try:
            add_note(
                self.store,
                incident.id,
                text,
                signals=self.signals_for(incident.functions),
                at=self.now_iso(),
            )
        except Exception as exc:
            self.post_message(WorkFailed("Adding the note", exc))
            return
        self.call_from_thread(self.reload_incidents)

    @work(thread=True, group="incidents-write", exit_on_error=False)
    def write_status(self, incident: Incident, status: str) -> None:
        """Move ``incident`` to ``status`` (mitigated or resolved; in a thread)."""
        assert self.store is not None
        try:
            inc = set_status(
                self.store,
                incident.id,
                status,
                signals=self.signals_for(incident.functions),
                at=self.now_iso(),
            )
        except Exception as exc:
            self.post_message(WorkFailed(f"Marking {incident.id} {status}", exc))
            return
        self.call_from_thread(self.notify, f"{inc.id} is now {inc.status}", timeout=4)
        self.call_from_thread(self.reload_incidents)
        self.call_from_thread(self.post_annotation, inc, f"{inc.id} {inc.status}: {inc.title}")

    @work(group="incidents-annotate", exit_on_error=False)
    async def post_annotation(self, incident: Incident, text: str) -> None:
        """Send an incident change to the dashboards that want it (a warning if one fails)."""
        from console.engine.annotations import REFUSED, annotate_incident

        fleet = getattr(self, "fleet", None)
        if fleet is None:
            return
        # under read-only nothing is posted; each refusal is recorded on the timeline
        errors = await annotate_incident(self.store, fleet, incident, text)
        errors = {k: v for k, v in errors.items() if v != REFUSED}
        for name, err in errors.items():
            self.notify(
                f"Annotation on {name} failed: {redact(err)}", severity="warning", timeout=6
            )
