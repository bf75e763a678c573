"""The hash chain under the event log: how a row is encoded and hashed, and the check.

A row's hash is ``sha256(prev_hash + canonical_json(body))``; ``body_text`` builds that JSON
straight from the stored columns. ``bulk_write`` appends rows in batches without building
events (:class:`~console.engine.events.EventLog` writes them one by one otherwise), and
``verify_chain`` walks the table and names the first row that does not hold.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from console.core.events import GENESIS, NewEvent
from console.core.redact import redact_obj
from console.engine.store.base import ChainHooks, Conn, StoreLike


def canonical_json(obj: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


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


#: The stored columns, in Event field order.
COLUMNS = "seq, id, at, kind, actor, incident_id, run_id, function_id, data, prev_hash, hash"

#: Appends one row: the values in ``COLUMNS`` order.
INSERT_EVENT = (
    "INSERT INTO events (seq, id, at, kind, actor, incident_id, run_id, function_id,"
    " data, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)


#: One stored row, in ``COLUMNS`` order.
Row = tuple[int, str, str, str, str, str | None, str | None, str | None, str, str, str]


#: The last stored event's (seq, hash).
_HEAD = "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1"


def read_head(store: StoreLike) -> tuple[int, str] | None:
    """The last stored (seq, hash) as a reader sees it (no lock, no transaction); None when
    the chain is empty."""
    rows = store.tuples(_HEAD)
    return (int(rows[0][0]), str(rows[0][1])) if rows else None


def chain_head(conn: Conn) -> tuple[int, str]:
    """The last stored (seq, hash): where the next event links on (0 and GENESIS if none).

    On an engine shared by many writers (PostgreSQL) this first takes the chain's lock, held
    until the transaction ends: appends are serialised and the chain never forks.
    """
    if isinstance(conn, ChainHooks):
        conn.lock_chain()
    row = conn.execute(_HEAD).fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def chain(
    events: Iterable[NewEvent],
    seq: int,
    prev: str,
    *,
    default_actor: str,
    now: Callable[[], str],
) -> Iterator[tuple[Row, dict[str, Any]]]:
    """Number, redact and hash ``events`` after (``seq``, ``prev``): each stored row with its
    redacted data. The one place an event becomes a link of the chain."""
    sha = hashlib.sha256
    for new in events:
        seq += 1
        clean = redact_obj(new.data or {})
        data_text = canonical_json(clean)
        eid = new.id or uuid.uuid4().hex
        at = new.at or now()
        actor = new.actor or default_actor
        ids = (new.incident_id, new.run_id, new.function_id)
        text = body_text(seq, eid, at, new.kind, actor, *ids, data_text)
        digest = sha((prev + text).encode()).hexdigest()
        yield (seq, eid, at, new.kind, actor, *ids, data_text, prev, digest), clean
        prev = digest


def appended(conn: Conn, last_seq: int) -> None:
    """Tell the engine that events up to ``last_seq`` were written in this transaction."""
    if isinstance(conn, ChainHooks):
        conn.chain_appended(last_seq)


def bulk_write(
    store: StoreLike,
    events: Iterable[NewEvent],
    *,
    default_actor: str,
    now: Callable[[], str],
    batch: int = 50_000,
) -> int:
    """Append many events fast (``executemany`` per batch, one transaction per batch).

    ``default_actor`` and ``now()`` fill an event's missing ``actor`` and ``at``. For imports and
    benchmarks: returns only the count, keeps no events in memory.
    """
    total = 0
    it = iter(events)
    while True:
        chunk = list(islice(it, batch))
        if not chunk:
            return total
        with store.transaction() as conn:
            seq, prev = chain_head(conn)
            rows = [row for row, _ in chain(chunk, seq, prev, default_actor=default_actor, now=now)]
            conn.executemany(INSERT_EVENT, rows)
            appended(conn, rows[-1][0])
        total += len(chunk)


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of walking the chain."""

    ok: bool
    checked: int
    bad_seq: int | None = None
    bad_id: str | None = None
    reason: str = ""


def verify_chain(store: StoreLike, *, batch: int = 50_000) -> VerifyResult:
    """Walk the whole chain; the first row whose hash or link does not hold is named.

    Detects a changed field (any column), a removed row (a gap, or a missing tail: SQLite
    remembers the highest sequence number ever written; PostgreSQL's ``events.seq``
    sequence does), and rows moved or swapped. The same walk on both engines.
    """
    prev = GENESIS
    expected = 1
    sha = hashlib.sha256
    last = 0
    while True:
        rows = store.tuples(
            f"SELECT {COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (last, batch)
        )
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
                    f"event #{expected} was removed (the log jumps from #{expected - 1} to #{seq})",
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
    high = store.high_water()
    if high is not None and high > checked:
        return VerifyResult(
            False,
            checked,
            checked + 1,
            None,
            f"event #{checked + 1} was removed: the log ends at #{checked} but #{high} was written",
        )
    return VerifyResult(True, checked)
