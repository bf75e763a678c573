"""Following a store other processes write to: the events appended since the last look.

Built only on the store's ``wait_for_change(timeout)`` (SQLite: ``PRAGMA data_version``;
PostgreSQL: LISTEN/NOTIFY) and a read of the events after the last sequence number seen,
so it works the same on either engine. No Textual: the console runs it in a thread worker.
"""

from __future__ import annotations

from console.engine.store.base import StoreLike
from console.engine.store.events import COLUMNS, Event, row_events

__all__ = ["Follower"]

#: Events read per look at most (a burst larger than this is read over several looks).
BATCH = 2000


class Follower:
    """The events appended to ``store`` after the moment it was created."""

    def __init__(self, store: StoreLike) -> None:
        self.store = store
        store.wait_for_change(0)  # the change counter first: a write after the read is seen
        rows = store.tuples("SELECT seq FROM events ORDER BY seq DESC LIMIT 1")
        #: The last sequence number seen.
        self.last = int(rows[0][0]) if rows else 0

    def poll(self, timeout: float) -> list[Event]:
        """Wait up to ``timeout`` seconds for another process's change; the new events (in
        chain order, this process's own included), or ``[]``."""
        if not self.store.wait_for_change(timeout):
            return []
        return self.read()

    def read(self) -> list[Event]:
        """The events after the last seen, now (at most :data:`BATCH`)."""
        rows = self.store.tuples(
            f"SELECT {COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (self.last, BATCH)
        )
        if rows:
            self.last = int(rows[-1][0])
        return row_events(rows)
