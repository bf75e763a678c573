"""The append-only, hash-chained event log: every finding, alert, action and note.

Each event stores ``hash = sha256(prev_hash + canonical_json(event))`` where the event is
its sequence number, id, time, kind, actor, incident, run, function and data. Changing,
deleting or reordering any stored row breaks the chain at that row, and ``verify`` names
it. Event data is redacted before it is hashed and written: secrets never reach the file.
"""

from __future__ import annotations

import getpass
import json
import socket
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from console.core.events import GENESIS, Event, EventKind, NewEvent
from console.core.sanitize import clean_line
from console.core.team import default_handle
from console.core.timeline import iso_at
from console.engine.store.base import Conn, StoreLike
from console.engine.store.chain import (
    COLUMNS,
    INSERT_EVENT,
    VerifyResult,
    appended,
    body_text,
    bulk_write,
    canonical_json,
    chain,
    chain_hash,
    chain_head,
    verify_chain,
)

# The chain's encoding (from event_chain) and the schema's row types are part of this
# module's API too.
__all__ = [
    "COLUMNS",
    "GENESIS",
    "Event",
    "EventKind",
    "EventLog",
    "NewEvent",
    "VerifyResult",
    "actor_of",
    "body_text",
    "canonical_json",
    "chain_hash",
    "current_actor",
    "set_event_clock",
    "utc_now",
]


#: What "now" is for event times written without one (see :func:`set_event_clock`).
_event_clock: Callable[[], float] = time.time


def set_event_clock(clock: Callable[[], float]) -> Callable[[], float]:
    """Make ``clock`` the time of events written without one; returns the one it replaces.

    A drill (``callboard drill``) runs the console, its runs and its incidents on one clock
    (simulated in a headless drill and in tests), so the scorecard's times, read from the
    events alone, are all on that clock. Everything else leaves it at ``time.time``.
    """
    global _event_clock
    was, _event_clock = _event_clock, clock
    return was


def utc_now() -> str:
    """The current UTC time (the event clock's), ISO 8601 with milliseconds and a Z."""
    return iso_at(_event_clock())


def current_actor() -> str:
    """``$USER@host``, for the ``actor`` of events when the config has no ``me: {handle}``
    (both are outside text: cleaned, bounded)."""
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        user = "unknown"
    return default_handle(clean_line(user), socket.gethostname())


def actor_of(store: StoreLike) -> str:
    """The actor writing through ``store``: its configured ``actor``, else :func:`current_actor`."""
    return store.actor or current_actor()


class EventLog:
    """Appends and reads events in one Store."""

    def __init__(self, store: StoreLike, actor: str | None = None) -> None:
        self.store = store
        self.actor = actor or actor_of(store)

    def append(self, event: NewEvent) -> Event:
        """Append one event (redacted, chained, committed before returning).

        Build ``event`` with a constructor of :mod:`console.core.events`.
        """
        return self.append_many([event])[0]

    def append_many(self, events: Iterable[NewEvent]) -> list[Event]:
        """Append several events in one transaction (all or none), in the given order."""
        with self.store.transaction() as conn:
            return self.write(conn, events)

    def write(self, conn: Conn, events: Iterable[NewEvent]) -> list[Event]:
        """Append events inside the caller's open transaction on ``conn``.

        Lets a caller change its own rows (an incident's status) and record the event that
        says so atomically.
        """
        _remember_name(self.store, conn, self.actor)
        seq, prev = chain_head(conn)
        out: list[Event] = []
        for row, clean in chain(events, seq, prev, default_actor=self.actor, now=utc_now):
            conn.execute(INSERT_EVENT, row)
            out.append(Event(*row[:8], clean, row[9], row[10], row[8]))
        if out:
            appended(conn, out[-1].seq)
        return out

    def bulk_append(self, events: Iterable[NewEvent], *, batch: int = 50_000) -> int:
        """Append many events fast (``executemany`` per batch, one transaction per batch).

        For imports and benchmarks: returns only the count, keeps no events in memory.
        """
        return bulk_write(self.store, events, default_actor=self.actor, now=utc_now, batch=batch)

    def iter(
        self, *, incident_id: str | None = None, run_id: str | None = None, batch: int = 5000
    ) -> Iterator[Event]:
        """Events in chain order, optionally for one incident or run, read in batches."""
        where, args = "", tuple[str, ...]()
        if incident_id is not None:
            where, args = " AND incident_id = ?", (incident_id,)
        elif run_id is not None:
            where, args = " AND run_id = ?", (run_id,)
        last = 0
        while True:
            rows = self.store.tuples(
                f"SELECT {COLUMNS} FROM events WHERE seq > ?{where} ORDER BY seq LIMIT ?",
                (last, *args, batch),
            )
            if not rows:
                return
            yield from row_events(rows)
            last = rows[-1][0]

    def verify(self, *, batch: int = 50_000) -> VerifyResult:
        """Walk the whole chain; the first row whose hash or link does not hold is named.

        See :func:`~console.engine.event_chain.verify_chain`.
        """
        return verify_chain(self.store, batch=batch)


#: The stores whose actor's name is recorded already (held weakly: a closed store goes).
_named: weakref.WeakSet[StoreLike] = weakref.WeakSet()


def _remember_name(store: StoreLike, conn: Conn, actor: str) -> None:
    """With its first write, a store whose actor has a configured name records it in
    ``people`` (exports list the responders by name), once per Store object."""
    name = store.actor_name
    if not name or store.actor != actor or store in _named:
        return
    conn.execute(
        "INSERT INTO people (handle, name, updated_at) VALUES (?, ?, ?) ON CONFLICT(handle)"
        " DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
        (actor, name, utc_now()),
    )
    _named.add(store)


def row_events(rows: Iterable[tuple[Any, ...]]) -> list[Event]:
    """The Events of stored rows (``COLUMNS`` order); unreadable data is kept as text."""
    loads, make = json.loads, tuple.__new__
    out: list[Event] = []
    for r in rows:
        raw = r[8]
        try:
            data = loads(raw)
        except (TypeError, ValueError):
            data, raw = {"_unreadable": str(raw)}, None
        out.append(make(Event, (*r[:8], data, r[9], r[10], raw)))
    return out
