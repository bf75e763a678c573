"""The console's incident desk: the engine's incident service, run off the UI thread.

The app owns one :class:`IncidentDesk` (when it has a store). Every store access runs in a
thread worker (SQLite writes must never block a key); results come back to the app as
messages — :class:`~console.tui.messages.IncidentsChanged` (the app sets its reactive
``incidents``, which every incident bar, the fire strip and every open timeline watch) and
:class:`~console.tui.messages.IncidentWritten` (the app says so, reloads and annotates).
Nothing here knows a screen.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from textual.app import App
from textual.worker import Worker

from console.core.postmortem import IncidentLike
from console.core.redact import redact
from console.core.snapshot import FleetSnapshot
from console.engine.fleet.refresh import Fleet
from console.engine.incidents.lifecycle import Incident
from console.engine.incidents.service import IncidentService
from console.engine.store.base import StoreLike as Store
from console.tui.messages import IncidentsChanged, IncidentWritten, WorkFailed

__all__ = ["IncidentDesk"]


class IncidentDesk:
    """Incidents for the app: recording each refresh, opening, noting, moving, annotating.

    ``latest`` returns the app's latest snapshot (the signals each change records).
    """

    def __init__(
        self,
        app: App[Any],
        service: IncidentService,
        fleet: Fleet,
        latest: Callable[[], FleetSnapshot | None],
    ) -> None:
        self._app = app
        self.service = service
        self._fleet = fleet
        self._latest = latest
        self._recorder: Worker[None] | None = None
        self._pending_record: FleetSnapshot | None = None

    @property
    def store(self) -> Store:
        return self.service.store

    def now_iso(self) -> str:
        """The fleet's clock as event time (tests and the demo run on their own clock)."""
        return self.service.now_iso()

    @property
    def export_dir(self) -> Path:
        """Where the timeline's exports go."""
        return self.service.export_dir

    def _thread(self, fn: Callable[[], None], group: str) -> Worker[None]:
        return self._app.run_worker(fn, thread=True, group=group, exit_on_error=False)

    # -- the recorder ------------------------------------------------------------------

    def record_after_refresh(self, snapshot: FleetSnapshot) -> None:
        """Record ``snapshot`` on the active incidents. While the last write runs, the newest
        snapshot waits and is recorded as soon as that write ends (never two at once)."""
        if self._recorder is not None and self._recorder.is_running:
            self._pending_record = snapshot
            return
        self._pending_record = None
        self._recorder = self._thread(partial(self._record, snapshot), "incidents-record")

    @property
    def recorded(self) -> bool:
        """A refresh was recorded and no write is running or waiting (screenshots wait)."""
        rec = self._recorder
        return rec is not None and rec.is_finished and self._pending_record is None

    def worker_changed(self, worker: Worker[Any]) -> None:
        """A finished recorder write lets the waiting snapshot through (the app calls this
        on every worker state change)."""
        if worker is self._recorder and worker.is_finished:
            pending = self._pending_record
            if pending is not None:
                self.record_after_refresh(pending)

    def _record(self, snapshot: FleetSnapshot | None) -> None:
        try:
            active = self.service.record(snapshot)
        except Exception as exc:
            self._app.post_message(WorkFailed("Recording the incident timeline", exc))
            return
        self._app.post_message(IncidentsChanged(active))

    def reload(self) -> None:
        """Re-read the active incidents (after a change made from a screen)."""
        self._thread(partial(self._record, None), "incidents-record")

    # -- changes ---------------------------------------------------------------------

    def write_incident(self, function_id: str, title: str, severity: str) -> Worker[None]:
        """Open an incident on ``function_id`` (in a thread: it writes SQLite)."""

        def write() -> IncidentWritten:
            inc = self.service.open(function_id, title, severity, self._latest())
            return IncidentWritten(
                inc,
                f"Opened {inc.id} ({inc.severity}): {inc.title} — press i for its timeline",
                f"{inc.id} opened ({inc.severity}): {inc.title}",
            )

        return self._write("Opening the incident", write)

    def write_note(self, incident: IncidentLike, text: str) -> None:
        """Add a note to ``incident`` (in a thread)."""

        def write() -> IncidentWritten:
            self.service.note(incident, text, self._latest())
            return IncidentWritten(None)

        self._write("Adding the note", write)

    def write_status(self, incident: IncidentLike, status: str) -> None:
        """Move ``incident`` to ``status`` (mitigated or resolved; in a thread)."""

        def write() -> IncidentWritten:
            inc = self.service.set_status(incident, status, self._latest())
            said = f"{inc.id} is now {inc.status}"
            return IncidentWritten(inc, said, f"{inc.id} {inc.status}: {inc.title}", timeout=4)

        self._write(f"Marking {incident.id} {status}", write)

    def write_role(self, incident: IncidentLike, role: str, who: str, read_only: bool) -> None:
        """Give ``role`` on ``incident`` to ``who`` ("": unassign it; in a thread)."""
        from textual.markup import escape  # handles are outside text: never markup

        from console.engine.incidents.roles import assign, unassign

        def write() -> IncidentWritten:
            at = self.service.now_iso()
            if not who:
                gone = unassign(self.store, incident.id, role, read_only=read_only, at=at)
                said = f"{role} on {incident.id}: unassigned (was {gone})"
                return IncidentWritten(None, escape(said))
            _, handle, was = assign(self.store, incident.id, role, who, read_only=read_only, at=at)
            before = f" (was {was})" if was and was != handle else ""
            said = f"{role} on {incident.id}: {handle}{before}"
            return IncidentWritten(None, escape(said), timeout=4)

        self._write(f"Assigning {role}", write)

    def _write(self, doing: str, write: Callable[[], IncidentWritten]) -> Worker[None]:
        """Run one change in a thread; what it says, or its failure, back to the app."""

        def run() -> None:
            try:
                said = write()
            except Exception as exc:
                self._app.post_message(WorkFailed(doing, exc))
                return
            self._app.post_message(said)

        return self._thread(run, "incidents-write")

    def annotate(self, incident: Incident, text: str) -> None:
        """Send an incident change to the dashboards that want it (a warning if one fails)."""
        self._app.run_worker(
            self._annotate(incident, text), group="incidents-annotate", exit_on_error=False
        )

    async def _annotate(self, incident: Incident, text: str) -> None:
        from console.engine.runbooks.annotations import REFUSED, annotate_incident

        # under read-only nothing is posted; each refusal is recorded on the timeline
        errors = await annotate_incident(self.store, self._fleet, incident, text)
        errors = {k: v for k, v in errors.items() if v != REFUSED}
        for name, err in errors.items():
            self._app.notify(
                f"Annotation on {name} failed: {redact(err)}", severity="warning", timeout=6
            )
