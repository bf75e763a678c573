"""Local first, team later: copy an incident recorded offline into another (team) store.

``push_incident`` appends the incident's events (its own and its runs', see
:func:`~console.engine.incidents.export.incident_events`) to the target's chain in their
local order — re-chained there, each keeping its id, time, actor and data — and copies the
incident, runs, steps and responders' names. An event id already in the target is skipped,
so pushing twice duplicates nothing. The push is recorded in the target in the same
transaction: an ``incident.pushed`` event and a ``pushes`` row holding the local chain's
head (seq and hash) and the counts, so the local file can be checked against what was
pushed later (:func:`check_push`).

If the target already has a different incident with the same id (two laptops both opened
their ``INC-0001``), the pushed one gets the target's next free id; the incident's
``incident.opened`` event id finds it again on the next push. Reads inside the target's
transaction go through its connection (portable: the same code runs on PostgreSQL).
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from console.core import events as ev
from console.core.events import EventKind, NewEvent
from console.engine.incidents.export import incident_events
from console.engine.incidents.lifecycle import STATUSES, get_incident
from console.engine.store.base import StoreLike
from console.engine.store.chain import canonical_json, read_head
from console.engine.store.events import Event, EventLog, actor_of, utc_now
from console.errors import UserError

__all__ = ["PushCheck", "PushResult", "check_push", "push_incident", "safe_url"]

_RUN_COLUMNS = ("id", "runbook", "runbook_path", "function_id", "params", "dry_run", "status",
                "incident_id", "environment", "started_at", "ended_at", "pid", "owner")  # fmt: skip
_STEP_COLUMNS = ("run_id", "idx", "step_id", "kind", "status", "output", "exit_code",
                 "started_at", "ended_at")  # fmt: skip
_INC_COLUMNS = ("id", "title", "severity", "status", "functions", "opened_at", "mitigated_at",
                "resolved_at", "opened_by", "environment")  # fmt: skip
_CHUNK = 500


def safe_url(url: str) -> str:
    """``url`` with any password in it masked: fit for the screen and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "«url»"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = f"{parts.username}:***@" if parts.username else "***@"
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}{host}{port}"))


@dataclass(frozen=True, slots=True)
class PushResult:
    """What a push did."""

    source_incident: str
    incident_id: str
    events: int
    new_events: int
    head_seq: int
    head_hash: str

    def to_json(self) -> dict[str, Any]:
        return {
            "source_incident": self.source_incident,
            "incident_id": self.incident_id,
            "events": self.events,
            "new_events": self.new_events,
            "source_head_seq": self.head_seq,
            "source_head_hash": self.head_hash,
        }


@dataclass(frozen=True, slots=True)
class PushCheck:
    """The local file checked against what was pushed."""

    ok: bool
    incident_id: str | None
    pushed_at: str | None
    checked: int
    problems: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "incident_id": self.incident_id,
            "pushed_at": self.pushed_at,
            "checked": self.checked,
            "problems": list(self.problems),
        }


def _head(store: StoreLike) -> tuple[int, str]:
    return read_head(store) or (0, ev.GENESIS)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _present(conn: Any, ids: Sequence[str]) -> set[str]:
    """Those event ``ids`` already in the target."""
    out: set[str] = set()
    for part in _chunks(ids):
        marks = ",".join("?" * len(part))
        rows = conn.execute(f"SELECT id FROM events WHERE id IN ({marks})", tuple(part))
        out.update(str(r[0]) for r in rows.fetchall())
    return out


def _target_id(conn: Any, local_id: str, opened: Event | None) -> str:
    """The incident's id in the target: found by its ``incident.opened`` event, else the
    local id if free, else the target's next free ``INC-`` number."""
    if opened is not None:
        row = conn.execute("SELECT incident_id FROM events WHERE id = ?", (opened.id,)).fetchone()
        if row is not None and row[0]:
            return str(row[0])
    if conn.execute("SELECT 1 FROM incidents WHERE id = ?", (local_id,)).fetchone() is None:
        return local_id
    numbers = [
        int(r[0][4:])
        for r in conn.execute("SELECT id FROM incidents WHERE id LIKE 'INC-%'").fetchall()
        if str(r[0])[4:].isdigit()
    ]
    return f"INC-{max(numbers, default=0) + 1:04d}"


def push_incident(
    source: StoreLike, incident_id: str, target: StoreLike, *, source_name: str | None = None
) -> PushResult:
    """Push ``incident_id`` from ``source`` into ``target`` (see the module docstring).

    Raises:
        UserError: no such incident, the same store on both sides, or a local chain that
            does not verify (its head would vouch for a broken chain).
    """
    if source.location == target.location:
        raise UserError("the target is the store itself: push to another store (--to URL)")
    inc = get_incident(source, incident_id)
    checked = EventLog(source).verify()
    if not checked.ok:
        raise UserError(
            f"the local chain does not verify at event #{checked.bad_seq}: {checked.reason} "
            "(see `callboard audit verify`); nothing was pushed"
        )
    head_seq, head_hash = _head(source)
    evs = incident_events(source, inc.id)
    opened = next((e for e in evs if e.kind == EventKind.INCIDENT_OPENED), None)
    runs = sorted({e.run_id for e in evs if e.run_id} | _linked_runs(source, inc.id))
    actors = sorted({e.actor for e in evs})
    run_rows = _rows(source, "runs", _RUN_COLUMNS, "id", runs)
    step_rows = _rows(source, "steps", _STEP_COLUMNS, "run_id", runs)
    people = _rows(source, "people", ("handle", "name", "updated_at"), "handle", actors)
    inc_row = _rows(source, "incidents", _INC_COLUMNS, "id", [inc.id])[0]
    pusher = actor_of(source)
    name = source_name or f"{socket.gethostname().split('.', 1)[0]}:{source.location}"
    log = EventLog(target, pusher)
    with target.transaction() as conn:
        tid = _target_id(conn, inc.id, opened)
        here = _present(conn, [e.id for e in evs])
        fresh = [_copy(e, inc.id, tid) for e in evs if e.id not in here]
        _put_incident(conn, inc_row, tid)
        for row in run_rows:
            row = _mapped(row, _RUN_COLUMNS.index("incident_id"), inc.id, tid)
            _upsert(conn, "runs", _RUN_COLUMNS, row, ("id",))
        for row in step_rows:
            _upsert(conn, "steps", _STEP_COLUMNS, row, ("run_id", "idx"))
        for row in people:
            conn.execute(
                "INSERT INTO people (handle, name, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT(handle) DO NOTHING",
                tuple(row),
            )
        if fresh:
            log.write(conn, fresh)
            pushed = ev.incident_pushed(name, head_seq, head_hash, len(evs), len(fresh))
            log.write(conn, [pushed.on(incident_id=tid)])
            conn.execute(
                "INSERT INTO pushes (id, source, source_incident, incident_id, source_head_seq,"
                " source_head_hash, events, new_events, pushed_at, pushed_by)"
                " VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    uuid.uuid4().hex,
                    name,
                    inc.id,
                    tid,
                    head_seq,
                    head_hash,
                    len(evs),
                    len(fresh),
                    utc_now(),
                    pusher,
                ),
            )
    return PushResult(inc.id, tid, len(evs), len(fresh), head_seq, head_hash)


def _linked_runs(store: StoreLike, incident_id: str) -> set[str]:
    return {str(r[0]) for r in store.tuples("SELECT id FROM runs WHERE incident_id = ?",
                                            (incident_id,))}  # fmt: skip


def _rows(
    store: StoreLike, table: str, columns: Sequence[str], key: str, values: Sequence[str]
) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for part in _chunks(values):
        marks = ",".join("?" * len(part))
        out += store.tuples(
            f"SELECT {', '.join(columns)} FROM {table} WHERE {key} IN ({marks})", tuple(part)
        )
    return out


def _mapped(row: tuple[Any, ...], index: int, old: str, new: str) -> tuple[Any, ...]:
    return row if row[index] != old else (*row[:index], new, *row[index + 1 :])


def _copy(e: Event, local_id: str, tid: str) -> NewEvent:
    """The event as the target will chain it: its id, time, actor and data kept."""
    return ev.copy_of(e, incident_id=tid if e.incident_id == local_id else e.incident_id)


def _upsert(
    conn: Any, table: str, columns: Sequence[str], row: tuple[Any, ...], key: Sequence[str]
) -> None:
    rest = [c for c in columns if c not in key]
    conn.execute(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({','.join('?' * len(columns))})"
        f" ON CONFLICT({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in rest),
        tuple(row),
    )


def _put_incident(conn: Any, row: tuple[Any, ...], tid: str) -> None:
    """Insert the incident, or move the target's copy forward (status never goes back)."""
    row = (tid, *row[1:])
    have = conn.execute("SELECT status FROM incidents WHERE id = ?", (tid,)).fetchone()
    if have is None:
        conn.execute(
            f"INSERT INTO incidents ({', '.join(_INC_COLUMNS)}) VALUES"
            f" ({','.join('?' * len(_INC_COLUMNS))})",
            row,
        )
        return
    status = str(row[3])
    was = str(have[0])
    if status in STATUSES and was in STATUSES and STATUSES.index(status) > STATUSES.index(was):
        conn.execute(
            "UPDATE incidents SET status = ?, mitigated_at = ?, resolved_at = ? WHERE id = ?",
            (status, row[6], row[7], tid),
        )


def check_push(source: StoreLike, incident_id: str, target: StoreLike) -> PushCheck:
    """Check the local file against the target's record of its last push of ``incident_id``.

    The local chain must verify, still hold the head recorded at the push (same hash at the
    same seq: nothing before it was rewritten), and every local event of the incident up to
    that head must be in the target with the same kind, time, actor and data.
    """
    inc = get_incident(source, incident_id)
    problems: list[str] = []
    local = EventLog(source).verify()
    if not local.ok:
        problems.append(f"the local chain does not verify at #{local.bad_seq}: {local.reason}")
    evs = incident_events(source, inc.id)
    opened = next((e for e in evs if e.kind == EventKind.INCIDENT_OPENED), None)
    tid = None
    if opened is not None:
        rows = target.tuples("SELECT incident_id FROM events WHERE id = ?", (opened.id,))
        tid = str(rows[0][0]) if rows and rows[0][0] else None
    push = None
    if tid is not None:
        rows = target.tuples(
            "SELECT source_head_seq, source_head_hash, pushed_at FROM pushes"
            " WHERE incident_id = ? AND source_incident = ? ORDER BY pushed_at DESC LIMIT 1",
            (tid, inc.id),
        )
        push = rows[0] if rows else None
    if push is None:
        return PushCheck(False, tid, None, 0, (f"{inc.id} was never pushed to this store",))
    head_seq, head_hash, pushed_at = int(push[0]), str(push[1]), str(push[2])
    at_head = source.tuples("SELECT hash FROM events WHERE seq = ?", (head_seq,))
    if head_seq and (not at_head or at_head[0][0] != head_hash):
        problems.append(
            f"the local chain changed since the push: event #{head_seq} no longer has the "
            f"pushed head hash {head_hash[:16]}…"
        )
    pushed = [e for e in evs if e.seq <= head_seq]
    there = {
        str(r[0]): r
        for part in _chunks([e.id for e in pushed])
        for r in target.tuples(
            "SELECT id, kind, at, actor, data FROM events WHERE id IN"
            f" ({','.join('?' * len(part))})",
            tuple(part),
        )
    }
    for e in pushed:
        r = there.get(e.id)
        if r is None:
            problems.append(f"local event #{e.seq} ({e.kind}, {e.id}) is missing in the target")
        elif (r[1], r[2], r[3]) != (e.kind, e.at, e.actor) or _data(r[4]) != _data(e.raw):
            problems.append(f"local event #{e.seq} ({e.kind}, {e.id}) differs in the target")
        if len(problems) >= 20:
            problems.append("… (stopped after 20 problems)")
            break
    return PushCheck(not problems, tid, pushed_at, len(pushed), tuple(problems))


def _data(text: object) -> str | None:
    """Stored data text, canonical (an engine may store JSON its own way)."""
    if text is None:
        return None
    try:
        return canonical_json(json.loads(text) if isinstance(text, str) else text)
    except ValueError:
        return str(text)
