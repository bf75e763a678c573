"""The embedded receiver's log records, in the ``logs`` table beside the ``spans`` table.

It uses the very store object the span store uses (:attr:`SpanStore.store`), so logs go
wherever spans go. Found two ways, each by an index: by trace id (and span id), and by
service and time. A span id without its trace id is found by a scan (at most
``max_records`` rows; ``callboard logs --span`` alone): an index on span ids, which are
random, made every write touch a random page per record — a write of 512 records at the
cap took 24–28 ms of CPU with it, 8 ms without (measured side by side).

Retention: at most ``max_records`` records and nothing received more than ``max_age_s``
ago, applied in the insert's own transaction (a reader never sees the table over the
cap). Pruning is cheap at any size: ``seq`` only grows (AUTOINCREMENT, records are never
replaced), so the count cap is one range delete below ``MAX(seq) - max_records`` and the
age cap one range delete on the ``received_at`` index — neither scans what is kept.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from console.core import traces
from console.core.logmodel import ERROR_LEVELS, LogQuery, LogRecord
from console.engine.store.sqlite import Store

SOURCE = "otlp"

_COLUMNS = (
    "time_ns, observed_ns, service, scope, severity, severity_number, severity_text, body, "
    "attributes, trace_id, span_id, flags, event_name, received_at"
)
#: A query asks for at most this many records.
MAX_LIMIT = 10_000


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


class LogStore:
    """Log records in SQLite, with a count and an age cap.

    Args:
        store: the store the span store uses (the ``logs`` table comes from its migrations).
        max_records: the most records kept.
        max_age_s: records received longer ago than this are dropped.
        clock: Unix seconds (tests pass a fixed clock).
    """

    def __init__(
        self,
        store: Store,
        *,
        max_records: int = 200_000,
        max_age_s: float = 24 * 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_records < 1:
            raise ValueError("max_records must be at least 1")
        self.store = store
        self.max_records = max_records
        self.max_age_s = max_age_s
        self.clock = clock

    def add(self, records: Sequence[LogRecord]) -> int:
        """Store records (all or none) and apply retention. Returns how many were written."""
        if not records:
            return 0
        now = self.clock()
        rows = [
            (
                r.time_ns,
                r.observed_ns,
                r.service,
                r.scope,
                r.severity or "",
                r.severity_number,
                r.severity_text,
                r.body,
                _json(dict(r.attributes)),
                r.trace_id,
                r.span_id,
                r.flags,
                r.event_name,
                now,
            )
            for r in records
        ]
        with self.store.transaction() as conn:
            conn.executemany(
                f"INSERT INTO logs ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows
            )
            self._prune(conn, now)
        return len(rows)

    def _prune(self, conn: Any, now: float) -> None:
        conn.execute("DELETE FROM logs WHERE received_at < ?", (now - self.max_age_s,))
        conn.execute(
            "DELETE FROM logs WHERE seq <= (SELECT MAX(seq) FROM logs) - ?", (self.max_records,)
        )

    def prune(self) -> None:
        """Apply retention now (every write does it too)."""
        with self.store.transaction() as conn:
            self._prune(conn, self.clock())

    def count(self) -> int:
        """How many records are stored."""
        return int(self.store.tuples("SELECT COUNT(*) FROM logs")[0][0])

    def logs(self, query: LogQuery) -> list[LogRecord]:
        """The newest records matching ``query`` (at most ``query.limit``), newest first.

        A trace or span id finds records by its index; otherwise a service by the
        (service, time) index; a query with neither finds nothing.
        """
        select = self.select(query)
        if select is None:
            return []
        return [_row(r) for r in self.store.tuples(*select)]

    def select(self, query: LogQuery) -> tuple[str, tuple[Any, ...]] | None:
        """The SQL and parameters :meth:`logs` runs for ``query`` (None: nothing to find)."""
        where: list[str] = []
        args: list[Any] = []
        try:
            if query.trace_id:
                where.append("trace_id = ?")
                args.append(traces.trace_id(query.trace_id))
            if query.span_id:
                where.append("span_id = ?")
                args.append(traces.span_id(query.span_id))
        except ValueError:
            return None  # not an id: nothing can have it
        if query.service:
            where.append("service = ?")
            args.append(query.service)
        if not where:
            return None
        if query.since_ns is not None:
            where.append("time_ns >= ?")
            args.append(query.since_ns)
        if query.until_ns is not None:
            where.append("time_ns <= ?")
            args.append(query.until_ns)
        if query.errors_only:
            where.append("severity IN (" + ",".join("?" * len(ERROR_LEVELS)) + ")")
            args.extend(sorted(ERROR_LEVELS))
        args.append(max(1, min(query.limit, MAX_LIMIT)))
        sql = (
            f"SELECT {_COLUMNS} FROM logs WHERE "
            + " AND ".join(where)
            + " ORDER BY time_ns DESC, seq DESC LIMIT ?"
        )
        return sql, tuple(args)


def _row(r: tuple[Any, ...]) -> LogRecord:
    (time_ns, observed, service, scope, severity, number, text, body, attrs, tid, sid,
     flags, event, _received) = r  # fmt: skip
    return LogRecord(
        time_ns=int(time_ns),
        observed_ns=None if observed is None else int(observed),
        service=service,
        scope=scope,
        severity=severity or None,
        severity_number=None if number is None else int(number),
        severity_text=text,
        body=body,
        attributes=json.loads(attrs),
        trace_id=tid,
        span_id=sid,
        flags=int(flags),
        event_name=event,
        source=SOURCE,
    )
