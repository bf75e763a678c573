"""The drill's own events, written off the UI thread in the order they happened.

Every drill event is placed on the drill's incident at the moment it was seen (the drill's
clock, read when it happens, not when the write runs), then written by one writer thread:
SQLite never blocks a key, and the chain keeps the order of what the trainee did.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable

from console.core.events import NewEvent
from console.core.timeline import iso_at
from console.engine.store.events import EventLog

__all__ = ["DrillRecorder"]

log = logging.getLogger("callboard.drill")


class DrillRecorder:
    """Writes ``drill.*`` events on ``drill_id`` through ``log``, in order, on one thread."""

    def __init__(self, log: EventLog, drill_id: str, clock: Callable[[], float]) -> None:
        self.log = log
        self.drill_id = drill_id
        self.clock = clock
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="drill")
        self._pending: list[concurrent.futures.Future[object]] = []
        #: The first write that failed (the drill goes on; the scorecard says so).
        self.error: Exception | None = None
        self._closed = False

    def record(
        self, event: NewEvent, *, function_id: str | None = None, at: float | None = None
    ) -> None:
        """Write ``event`` (at ``at``, else now on the drill's clock); after :meth:`close`,
        nothing (the drill is over)."""
        if self._closed:
            return
        placed = event.on(
            incident_id=self.drill_id,
            function_id=function_id,
            at=iso_at(self.clock() if at is None else at),
        )
        self._pending = [f for f in self._pending if not f.done()]
        self._pending.append(self._pool.submit(self._write, placed))

    def _write(self, event: NewEvent) -> None:
        try:
            self.log.append(event)
        except Exception as exc:  # a full disk: keep the drill going, say so at the end
            log.error("drill event not written: %r", exc)
            if self.error is None:
                self.error = exc

    def flush(self) -> None:
        """Wait until every event recorded so far is written."""
        concurrent.futures.wait(list(self._pending))

    def close(self) -> None:
        """Write what is pending and stop the writer thread."""
        self._closed = True
        self._pool.shutdown(wait=True)
