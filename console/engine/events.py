"""The append-only, hash-chained event log: every finding, alert, action and note.

Each event stores ``hash = sha256(prev_hash + canonical_json(event))`` where the event is
its sequence number, id, time, kind, actor, incident, run, function and data. Changing,
deleting or reordering any stored row breaks the chain at that row, and ``verify`` names
it. Event data is redacted before it is hashed and written: secrets never reach the file.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from console.core.redact import redact_obj
from console.engine.store import Store

GENESIS = "0" * 64


def canonical_json(obj: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def utc_now() -> str:
    """The current UTC time, ISO 8601 with milliseconds and a Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def current_actor() -> str:
    """The OS user, for the ``actor`` of events."""
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "unknown"


@dataclass(frozen=True, slots=True)
class Event:
    """One timeline event as stored."""

    seq: int
    id: str
    at: str
    kind: str
    actor: str
    incident_id: str | None
    run_id: str | None
    function_id: str | None
    data: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS
    hash: str = ""

    def body(self) -> dict[str, Any]:
        """What the hash covers."""
        return {
            "seq": self.seq,
            "id": self.id,
            "at": self.at,
            "kind": self.kind,
            "actor": self.actor,
            "incident_id": self.incident_id,
            "run_id": self.run_id,
            "function_id": self.function_id,
            "data": self.data,
        }


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    """``sha256(prev_hash + canonical_json(body))`` as hex."""
    return hashlib.sha256((prev_hash + canonical_json(body)).encode()).hexdigest()


_encode_str = json.JSONEncoder(ensure_ascii=False).encode


def _j(value: str | None) -> str:
    return "null" if value is None else _encode_str(value)


def body_text(
    seq: int,
    id: str,
    at: str,
    kind: str,
    actor: str,
    incident_id: str | None,
    run_id: str | None,
    function_id: str | None,
    data_text: str,
) -> str:
    """``canonical_json(event.body())`` built from a stored row, with ``data`` as stored.

    Equal to ``canonical_json(body)`` for every row ``append`` writes (the data column holds
    ``canonical_json(data)``), and cheaper: the data is hashed as stored, not re-parsed, so
    any change to the stored bytes shows.
    """
    return (
        f'{{"actor":{_j(actor)},"at":{_j(at)},"data":{data_text},'
        f'"function_id":{_j(function_id)},"id":{_j(id)},"incident_id":{_j(incident_id)},'
        f'"kind":{_j(kind)},"run_id":{_j(run_id)},"seq":{int(seq)}}}'
    )


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of walking the chain."""

    ok: bool
    checked: int
    bad_seq: int | None = None
    bad_id: str | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append (see :meth:`EventLog.append_many`)."""

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    incident_id: str | None = None
    run_id: str | None = None
    function_id: str | None = None
    at: str | None = None
    actor: str | None = None


#: The stored columns, in Event field order.
COLUMNS = "seq, id, at, kind, actor, incident_id, run_id, function_id, data, prev_hash, hash"

_INSERT = (
    "INSERT INTO events (seq, id, at, kind, actor, incident_id, run_id, function_id,"
    " data, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)


class EventLog:
    """Appends and reads events in one Store."""

    def __init__(self, store: Store, actor: str | None = None) -> None:
        self.store = store
        self.actor = actor or current_actor()

    def append(
        self,
        kind: str,
        data: dict[str, Any] | None = None,
        *,
        incident_id: str | None = None,
        run_id: str | None = None,
        function_id: str | None = None,
        at: str | None = None,
        actor: str | None = None,
    ) -> Event:
        """Append one event (redacted, chained, committed before returning)."""
        new = NewEvent(kind, data or {}, incident_id, run_id, function_id, at, actor)
        return self.append_many([new])[0]

    def append_many(self, events: Iterable[NewEvent]) -> list[Event]:
        """Append several events in one transaction (all or none), in the given order."""
        with self.store.transaction() as conn:
            return self.write(conn, events)

    def write(self, conn: sqlite3.Connection, events: Iterable[NewEvent]) -> list[Event]:
        """Append events inside the caller's open transaction on ``conn``.

        Lets a caller change its own rows (an incident's status) and record the event that
        says so atomically.
        """
        row = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        seq = row[0] if row else 0
        prev = row[1] if row else GENESIS
        out: list[Event] = []
        for new in events:
            seq += 1
            clean = redact_obj(new.data or {})
            data_text = canonical_json(clean)
            ev = Event(
                seq=seq,
                id=uuid.uuid4().hex,
                at=new.at or utc_now(),
                kind=new.kind,
                actor=new.actor or self.actor,
                incident_id=new.incident_id,
                run_id=new.run_id,
                function_id=new.function_id,
                data=clean,
                prev_hash=prev,
            )
            text = body_text(
                seq,
                ev.id,
                ev.at,
                ev.kind,
                ev.actor,
                ev.incident_id,
                ev.run_id,
                ev.function_id,
                data_text,
            )
            digest = hashlib.sha256((prev + text).encode()).hexdigest()
            conn.execute(
                _INSERT,
                (
                    seq,
                    ev.id,
                    ev.at,
                    ev.kind,
                    ev.actor,
                    ev.incident_id,
                    ev.run_id,
                    ev.function_id,
                    data_text,
                    prev,
                    digest,
                ),
            )
            out.append(Event(**{**_fields(ev), "hash": digest}))
            prev = digest
        return out

    def bulk_append(self, events: Iterable[NewEvent], *, batch: int = 50_000) -> int:
        """Append many events fast (``executemany`` per batch, one transaction per batch).

        For imports and benchmarks: returns only the count, keeps no events in memory.
        """
        total = 0
        it = iter(events)
        while True:
            chunk = list(islice(it, batch))
            if not chunk:
                return total
            with self.store.transaction() as conn:
                row = conn.execute(
                    "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                seq = row[0] if row else 0
                prev = row[1] if row else GENESIS
                rows = []
                sha = hashlib.sha256
                for new in chunk:
                    seq += 1
                    data_text = canonical_json(redact_obj(new.data or {}))
                    eid = uuid.uuid4().hex
                    at = new.at or utc_now()
                    actor = new.actor or self.actor
                    text = body_text(
                        seq,
                        eid,
                        at,
                        new.kind,
                        actor,
                        new.incident_id,
                        new.run_id,
                        new.function_id,
                        data_text,
                    )
                    digest = sha((prev + text).encode()).hexdigest()
                    rows.append(
                        (
                            seq,
                            eid,
                            at,
                            new.kind,
                            actor,
                            new.incident_id,
                            new.run_id,
                            new.function_id,
                            data_text,
                            prev,
                            digest,
                        )
                    )
                    prev = digest
                conn.executemany(_INSERT, rows)
            total += len(chunk)

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
        loads = json.loads
        while True:
            with self.store._lock:
                cur = self.store.conn.cursor()
                cur.row_factory = None  # plain tuples: much cheaper than sqlite3.Row here
                rows = cur.execute(
                    f"SELECT {COLUMNS} FROM events WHERE seq > ?{where} ORDER BY seq LIMIT ?",
                    (last, *args, batch),
                ).fetchall()
            if not rows:
                return
            for r in rows:
                try:
                    data = loads(r[8])
                except (TypeError, ValueError):
                    data = {"_unreadable": str(r[8])}
                yield Event(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], data, r[9], r[10])
            last = rows[-1][0]

    def verify(self, *, batch: int = 50_000) -> VerifyResult:
        """Walk the whole chain; the first row whose hash or link does not hold is named.

        Detects a changed field (any column), a removed row (a gap, or a missing tail: SQLite
        remembers the highest sequence number ever written), and rows moved or swapped.
        """
        prev = GENESIS
        expected = 1
        sha = hashlib.sha256
        last = 0
        while True:
            with self.store._lock:
                cur = self.store.conn.cursor()
                cur.row_factory = None
                rows = cur.execute(
                    "SELECT seq, id, at, kind, actor, incident_id, run_id, function_id, data,"
                    " prev_hash, hash FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                    (last, batch),
                ).fetchall()
            if not rows:
                break
            for seq, eid, at, kind, actor, inc, run, fn, data, prev_hash, digest in rows:
                n = expected - 1
                if seq != expected:
                    return VerifyResult(
                        False,
                        n,
                        expected,
                        None,
                        f"event #{expected} was removed (the log jumps from #{expected - 1}"
                        f" to #{seq})",
                    )
                if prev_hash != prev:
                    return VerifyResult(
                        False,
                        n,
                        seq,
                        eid,
                        "link broken: prev_hash does not match the previous event"
                        " (an event was removed, moved or swapped)",
                    )
                try:
                    text = body_text(seq, eid, at, kind, actor, inc, run, fn, data)
                    good = sha((prev + text).encode()).hexdigest() == digest
                except (TypeError, ValueError):  # a field of the wrong type
                    good = False
                if not good:
                    return VerifyResult(
                        False, n, seq, eid, "content altered: the hash does not match the event"
                    )
                prev = digest
                expected += 1
            last = rows[-1][0]
        checked = expected - 1
        high = self._high_water()
        if high is not None and high > checked:
            return VerifyResult(
                False,
                checked,
                checked + 1,
                None,
                f"event #{checked + 1} was removed: the log ends at #{checked} but"
                f" #{high} was written",
            )
        return VerifyResult(True, checked)

    def _high_water(self) -> int | None:
        """The highest sequence number ever written (SQLite's AUTOINCREMENT record)."""
        try:
            rows = self.store.query("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
        except sqlite3.DatabaseError:
            return None
        return int(rows[0][0]) if rows and rows[0][0] is not None else None


def _fields(ev: Event) -> dict[str, Any]:
    return {k: getattr(ev, k) for k in Event.__slots__}


def row_event(r: Any) -> Event:
    """An Event from a stored ``events`` row."""
    return _row_event(r)


def _row_event(r: Any) -> Event:
    try:
        data = json.loads(r["data"])
    except (TypeError, ValueError):
        data = {"_unreadable": str(r["data"])}
    return Event(
        seq=r["seq"],
        id=r["id"],
        at=r["at"],
        kind=r["kind"],
        actor=r["actor"],
        incident_id=r["incident_id"],
        run_id=r["run_id"],
        function_id=r["function_id"],
        data=data,
        prev_hash=r["prev_hash"],
        hash=r["hash"],
    )
