"""The one SQLite file Callboard keeps: settings, plugin state, incidents, events, runs, spans.

WAL mode, versioned migrations (``PRAGMA user_version``). One connection per ``Store``;
it may be used from several threads, one at a time (a lock serialises access). Open the
store lazily: constructing a ``Store`` touches nothing until first use.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Each migration is a list of statements; index + 1 is the schema version it produces.
#: Append new migrations at the end; never edit one that has shipped.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
        """CREATE TABLE plugin_state (
            backend TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
            PRIMARY KEY (backend, key))""",
    ],
    # Spans received by the embedded OTLP receiver (console/engine/spanstore.py).
    [
        """CREATE TABLE spans (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_id TEXT,
            service TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
            status TEXT NOT NULL, status_message TEXT NOT NULL DEFAULT '',
            start_ns INTEGER NOT NULL, duration_ns INTEGER NOT NULL,
            attributes TEXT NOT NULL DEFAULT '{}', events TEXT NOT NULL DEFAULT '[]',
            received_at REAL NOT NULL,
            UNIQUE (trace_id, span_id))""",
        "CREATE INDEX spans_service_start ON spans (service, start_ns)",
        "CREATE INDEX spans_received ON spans (received_at)",
    ],
    # Incidents, the hash-chained event log, runbook runs and their steps.
    [
        """CREATE TABLE incidents (
            id TEXT PRIMARY KEY, title TEXT NOT NULL, severity TEXT NOT NULL,
            status TEXT NOT NULL, functions TEXT NOT NULL DEFAULT '[]',
            opened_at TEXT NOT NULL, mitigated_at TEXT, resolved_at TEXT,
            opened_by TEXT NOT NULL, environment TEXT NOT NULL DEFAULT '')""",
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE, at TEXT NOT NULL, kind TEXT NOT NULL,
            actor TEXT NOT NULL, incident_id TEXT, run_id TEXT, function_id TEXT,
            data TEXT NOT NULL DEFAULT '{}',
            prev_hash TEXT NOT NULL, hash TEXT NOT NULL)""",
        "CREATE INDEX events_incident ON events (incident_id, seq)",
        "CREATE INDEX events_run ON events (run_id, seq)",
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY, runbook TEXT NOT NULL, runbook_path TEXT NOT NULL DEFAULT '',
            function_id TEXT NOT NULL, params TEXT NOT NULL DEFAULT '{}',
            dry_run INTEGER NOT NULL, status TEXT NOT NULL, incident_id TEXT,
            environment TEXT NOT NULL DEFAULT '', started_at TEXT NOT NULL, ended_at TEXT,
            pid INTEGER)""",
        """CREATE TABLE steps (
            run_id TEXT NOT NULL, idx INTEGER NOT NULL, step_id TEXT NOT NULL,
            kind TEXT NOT NULL, status TEXT NOT NULL, output TEXT NOT NULL DEFAULT '',
            exit_code INTEGER, started_at TEXT, ended_at TEXT,
            PRIMARY KEY (run_id, idx))""",
    ],
    # 4: who runs a run — pid, boot and process start — so a new process that got the same
    # pid (PID 1 in a container) still sees a crashed run as interrupted.
    ["ALTER TABLE runs ADD COLUMN owner TEXT"],
]


class Store:
    """Callboard's SQLite store. ``path=":memory:"`` gives a private in-memory database."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    @property
    def conn(self) -> sqlite3.Connection:
        """The open connection, migrating the schema on first use."""
        if self._conn is None:
            with self._lock:
                if self._conn is None:
                    self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, check_same_thread=False, timeout=5.0, isolation_level=None
        )
        conn.row_factory = sqlite3.Row
        if self.path != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An IMMEDIATE transaction, committed on success and rolled back on error."""
        with self._lock:
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Cursor:
        """Run one statement (autocommit) and return its cursor."""
        with self._lock:
            return self.conn.execute(sql, params)

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        """Run a query and return all rows."""
        with self._lock:
            return self.conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- settings -------------------------------------------------------------------

    def get_setting(self, key: str, default: Any = None) -> Any:
        rows = self.query("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(rows[0]["value"]) if rows else default

    def set_setting(self, key: str, value: Any) -> None:
        self.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    def plugin_state(self, backend: str) -> StoreState:
        """The persistent PluginState of one backend instance."""
        return StoreState(self, backend)


class StoreState:
    """A PluginState kept in the ``plugin_state`` table (values are JSON)."""

    def __init__(self, store: Store, backend: str) -> None:
        self._store = store
        self._backend = backend

    def get(self, key: str, default: Any = None) -> Any:
        rows = self._store.query(
            "SELECT value FROM plugin_state WHERE backend = ? AND key = ?", (self._backend, key)
        )
        return json.loads(rows[0]["value"]) if rows else default

    def set(self, key: str, value: Any) -> None:
        self._store.execute(
            "INSERT INTO plugin_state (backend, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT(backend, key) DO UPDATE SET value = excluded.value",
            (self._backend, key, json.dumps(value)),
        )

    def delete(self, key: str) -> None:
        self._store.execute(
            "DELETE FROM plugin_state WHERE backend = ? AND key = ?", (self._backend, key)
        )


def migrate(conn: sqlite3.Connection, migrations: list[list[str]] | None = None) -> int:
    """Bring the schema up to date; returns the resulting version."""
    steps = MIGRATIONS if migrations is None else migrations
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    for number in range(version, len(steps)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in steps[number]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return len(steps)
