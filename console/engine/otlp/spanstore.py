"""The embedded receiver's spans, kept in the ``spans`` table of Callboard's SQLite store.

Retention: at most ``max_spans`` spans and nothing received more than ``max_age_s`` ago.
Eviction is by arrival order, oldest first, so the newest spans are always kept whole; it
runs in the same transaction as the insert, so a reader never sees the table over the cap.
A span sent twice (an exporter retry) replaces its earlier copy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from console.core import traces
from console.core.model import Span, Trace, TraceQuery, TraceSummary
from console.engine.store.sqlite import Store

SOURCE = "otlp"

_COLUMNS = (
    "trace_id, span_id, parent_id, service, name, kind, status, status_message, "
    "start_ns, duration_ns, attributes, events, received_at"
)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


class SpanStore:
    """Spans in SQLite, with a count and an age cap.

    Args:
        store: Callboard's store (the ``spans`` table comes from its migrations).
        max_spans: the most spans kept.
        max_age_s: spans received longer ago than this are dropped.
        clock: Unix seconds (tests pass a fixed clock).
    """

    def __init__(
        self,
        store: Store,
        *,
        max_spans: int = 100_000,
        max_age_s: float = 24 * 3600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_spans < 1:
            raise ValueError("max_spans must be at least 1")
        self.store = store
        self.max_spans = max_spans
        self.max_age_s = max_age_s
        self.clock = clock

    def add(self, spans: Sequence[Span]) -> int:
        """Store spans (all or none) and apply retention. Returns how many were written."""
        if not spans:
            return 0
        now = self.clock()
        rows = [
            (
                s.trace_id,
                s.span_id,
                s.parent_id,
                s.service,
                s.name,
                s.kind,
                s.status,
                s.status_message,
                s.start_ns,
                s.duration_ns,
                _json(dict(s.attributes)),
                _json(list(s.events)),
                now,
            )
            for s in spans
        ]
        with self.store.transaction() as conn:
            conn.executemany(
                f"INSERT OR REPLACE INTO spans ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            self._prune(conn, now)
        return len(rows)

    def _prune(self, conn: Any, now: float) -> None:
        conn.execute("DELETE FROM spans WHERE received_at < ?", (now - self.max_age_s,))
        conn.execute(
            "DELETE FROM spans WHERE seq < "
            "(SELECT seq FROM spans ORDER BY seq DESC LIMIT 1 OFFSET ?)",
            (self.max_spans - 1,),
        )

    def prune(self) -> None:
        """Apply retention now (the receiver does it on every write)."""
        with self.store.transaction() as conn:
            self._prune(conn, self.clock())

    def count(self) -> int:
        """How many spans are stored."""
        return int(self.store.query("SELECT COUNT(*) AS n FROM spans")[0]["n"])

    def find_traces(self, query: TraceQuery) -> list[TraceSummary]:
        """Traces with a span of ``query.service`` (and operation), newest first."""
        where = ["service = ?"]
        args: list[Any] = [query.service]
        if query.operation:
            where.append("name = ?")
            args.append(query.operation)
        if query.start_ns is not None:
            where.append("start_ns >= ?")
            args.append(query.start_ns)
        if query.end_ns is not None:
            where.append("start_ns <= ?")
            args.append(query.end_ns)
        having = ["1"]
        if query.errors_only:
            having.append("SUM(status = 'error') > 0")
        if query.min_duration_ms is not None:
            having.append("MAX(start_ns + duration_ns) - MIN(start_ns) >= ?")
        sql = (
            "SELECT trace_id, MIN(start_ns) AS t_start, MAX(start_ns + duration_ns) AS t_end, "
            "COUNT(*) AS spans, SUM(status = 'error') AS errors FROM spans "
            "WHERE trace_id IN (SELECT DISTINCT trace_id FROM spans WHERE "
            + " AND ".join(where)
            + ") GROUP BY trace_id HAVING "
            + " AND ".join(having)
            + " ORDER BY t_start DESC LIMIT ?"
        )
        if query.min_duration_ms is not None:
            args.append(int(query.min_duration_ms * 1e6))
        args.append(max(1, query.limit))
        out = []
        for row in self.store.query(sql, tuple(args)):
            root = self.store.query(
                "SELECT service, name FROM spans WHERE trace_id = ? AND (parent_id IS NULL OR "
                "parent_id NOT IN (SELECT span_id FROM spans WHERE trace_id = ?)) "
                "ORDER BY parent_id IS NOT NULL, start_ns LIMIT 1",
                (row["trace_id"], row["trace_id"]),
            )
            out.append(
                TraceSummary(
                    trace_id=row["trace_id"],
                    root_service=root[0]["service"] if root else "",
                    root_name=root[0]["name"] if root else "",
                    start_ns=int(row["t_start"]),
                    duration_ms=round((row["t_end"] - row["t_start"]) / 1e6, 3),
                    span_count=int(row["spans"]),
                    error_count=int(row["errors"] or 0),
                    source=SOURCE,
                )
            )
        return out

    def trace(self, trace_id: str) -> Trace | None:
        """The stored trace, finalised (tree order, first error span), or None."""
        try:
            tid = traces.trace_id(trace_id)
        except ValueError:
            return None
        rows = self.store.query(
            f"SELECT {_COLUMNS} FROM spans WHERE trace_id = ? ORDER BY start_ns, seq", (tid,)
        )
        if not rows:
            return None
        spans = tuple(
            Span(
                trace_id=r["trace_id"],
                span_id=r["span_id"],
                parent_id=r["parent_id"],
                service=r["service"],
                name=r["name"],
                start_ns=int(r["start_ns"]),
                duration_ns=int(r["duration_ns"]),
                kind=r["kind"],
                status=r["status"],
                status_message=r["status_message"],
                attributes=json.loads(r["attributes"]),
                events=tuple(json.loads(r["events"])),
            )
            for r in rows
        )
        return traces.finalize(Trace(trace_id=tid, spans=spans, source=SOURCE))
