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
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
    return hashlib.sha256((prev_hash + canonical_json(body)).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of walking the chain."""

    ok: bool
    checked: int
    bad_seq: int | None = None
    bad_id: str | None = None
    reason: str = ""


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
        clean = redact_obj(data or {})
        with self.store.transaction() as conn:
            row = conn.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            seq = (row["seq"] if row else 0) + 1
            prev = row["hash"] if row else GENESIS
            ev = Event(
                seq=seq,
                id=uuid.uuid4().hex,
                at=at or utc_now(),
                kind=kind,
                actor=actor or self.actor,
                incident_id=incident_id,
                run_id=run_id,
                function_id=function_id,
                data=clean,
                prev_hash=prev,
            )
            digest = chain_hash(prev, ev.body())
            conn.execute(
                "INSERT INTO events (seq, id, at, kind, actor, incident_id, run_id, function_id,"
                " data, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (seq, ev.id, ev.at, kind, ev.actor, incident_id, run_id, function_id,
                 canonical_json(clean), prev, digest),
            )
        return Event(**{**_fields(ev), "hash": digest})

    def iter(
        self, *, incident_id: str | None = None, run_id: str | None = None, batch: int = 5000
    ) -> Iterator[Event]:
        """Events in chain order, optionally for one incident or run, read in batches."""
        where, args = "", ()
        if incident_id is not None:
            where, args = " AND incident_id = ?", (incident_id,)
        elif run_id is not None:
            where, args = " AND run_id = ?", (run_id,)
        last = 0
        while True:
            rows = self.store.query(
                f"SELECT * FROM events WHERE seq > ?{where} ORDER BY seq LIMIT ?",
                (last, *args, batch),
            )
            if not rows:
                return
            for r in rows:
                yield _row_event(r)
            last = rows[-1]["seq"]

    def verify(self) -> VerifyResult:
        """Walk the whole chain; the first row whose hash or link does not hold is named."""
        prev = GENESIS
        expected_seq = 1
        n = 0
        for ev in self.iter(batch=20_000):
            if ev.seq != expected_seq:
                return VerifyResult(False, n, ev.seq, ev.id, f"sequence gap: expected event #{expected_seq}, found #{ev.seq} (an event was removed)")
            if ev.prev_hash != prev:
                return VerifyResult(False, n, ev.seq, ev.id, "link broken: prev_hash does not match the previous event (removed or reordered)")
            if chain_hash(prev, ev.body()) != ev.hash:
                return VerifyResult(False, n, ev.seq, ev.id, "content altered: hash does not match the event")
            prev = ev.hash
            expected_seq += 1
            n += 1
        return VerifyResult(True, n)


def _fields(ev: Event) -> dict[str, Any]:
    return {k: getattr(ev, k) for k in Event.__slots__}


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
