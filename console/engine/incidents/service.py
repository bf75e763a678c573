"""The incidents the console works on: open, list, note, status — one service, no Textual.

The console calls it from thread workers (every method writes or reads SQLite) and turns
what it returns into messages; event times are the fleet's clock, so a test or the demo on
its own clock records its own times.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from console.core.postmortem import IncidentLike
from console.core.snapshot import FleetSnapshot
from console.core.timeline import iso_at
from console.engine.incidents.lifecycle import (
    Incident,
    add_note,
    list_incidents,
    open_incident,
    record_snapshot,
    set_status,
    snapshot_signals,
)
from console.engine.store.base import StoreLike as Store

__all__ = ["IncidentService", "newest_active"]


def newest_active(incidents: Sequence[Incident], function_id: str | None) -> Incident | None:
    """The first of ``incidents`` (active ones, newest first) on ``function_id`` (None: any)."""
    for inc in incidents:
        if function_id is None or function_id in inc.functions:
            return inc
    return None


class IncidentService:
    """The incidents of one store, on one environment's clock."""

    def __init__(self, store: Store, *, clock: Callable[[], float], environment: str = "") -> None:
        self.store = store
        self.clock = clock
        self.environment = environment

    def now_iso(self) -> str:
        """The clock's time as event time."""
        return iso_at(self.clock())

    @property
    def export_dir(self) -> Path:
        """Exports go next to the database file (or into the data dir for an in-memory one
        or a team store)."""
        from console import paths

        path = str(self.store.location) if self.store.engine == "sqlite" else ":memory:"
        base = paths.data_dir() if path == ":memory:" else Path(path).parent
        return base / "exports"

    def active(self) -> list[Incident]:
        """The open and mitigated incidents, newest first."""
        return list_incidents(self.store, active_only=True)

    def record(self, snapshot: FleetSnapshot | None) -> list[Incident]:
        """Record ``snapshot`` on every open incident (the store says which: no race with a
        list held elsewhere), then the active incidents."""
        if snapshot is not None:
            record_snapshot(self.store, snapshot)
        return self.active()

    def open(
        self, function_id: str, title: str, severity: str, snapshot: FleetSnapshot | None
    ) -> Incident:
        """Open an incident on ``function_id`` with its signals in ``snapshot``."""
        return open_incident(
            self.store,
            title,
            [function_id],
            severity,
            environment=self.environment,
            signals=_signals(snapshot, [function_id]),
            at=self.now_iso(),
        )

    def note(self, incident: IncidentLike, text: str, snapshot: FleetSnapshot | None) -> None:
        """Add a note to ``incident`` with its functions' signals in ``snapshot``."""
        add_note(
            self.store,
            incident.id,
            text,
            signals=_signals(snapshot, incident.functions),
            at=self.now_iso(),
        )

    def set_status(
        self, incident: IncidentLike, status: str, snapshot: FleetSnapshot | None
    ) -> Incident:
        """Move ``incident`` to ``status`` (mitigated or resolved)."""
        return set_status(
            self.store,
            incident.id,
            status,
            signals=_signals(snapshot, incident.functions),
            at=self.now_iso(),
        )


def _signals(snapshot: FleetSnapshot | None, functions: Sequence[str]) -> dict[str, Any] | None:
    """The key signals of ``functions`` in ``snapshot`` (None before the first refresh)."""
    return None if snapshot is None else snapshot_signals(snapshot, list(functions))
