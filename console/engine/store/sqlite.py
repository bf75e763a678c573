"""The one SQLite file Callboard keeps: settings, plugin state, incidents, events, runs, spans, logs.

WAL mode, versioned migrations (``PRAGMA user_version``). One connection per ``Store``;
it may be used from several threads, one at a time (a lock serialises access). Open the
store lazily: constructing a ``Store`` touches nothing until first use.

A file that cannot be the store (not a database, damaged, a directory, read-only) raises
``StoreError`` naming the file and what to do (exit 2); a full disk or an I/O error raises
``StoreUnavailable`` (exit 1) — see :mod:`console.engine.store.faults`. Writes are
transactions, so a failed one leaves everything stored before it intact.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from console.engine.store import faults as storefaults

#: Each migration is a list of statements; index + 1 is the schema version it produces.
#: Append new migrations at the end; never edit one that has shipped.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
        """CREATE TABLE plugin_state (
            backend TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
            PRIMARY KEY (backend, key))""",
    ],
    # Spans received by the embedded OTLP receiver (console/engine/otlp/spanstore.py).
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
    # Log records received by the embedded OTLP receiver (console/engine/otlp/logstore.py),
    # beside the spans table: found by trace/span id and by service + time.
    [
        """CREATE TABLE logs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            time_ns INTEGER NOT NULL, observed_ns INTEGER,
            service TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '',
            severity TEXT NOT NULL DEFAULT '', severity_number INTEGER,
            severity_text TEXT NOT NULL DEFAULT '', body TEXT NOT NULL,
            attributes TEXT NOT NULL DEFAULT '{}', trace_id TEXT, span_id TEXT,
            flags INTEGER NOT NULL DEFAULT 0, event_name TEXT NOT NULL DEFAULT '',
            received_at REAL NOT NULL)""",
        "CREATE INDEX logs_trace ON logs (trace_id, span_id)",
        "CREATE INDEX logs_service_time ON logs (service, time_ns)",
        "CREATE INDEX logs_received ON logs (received_at)",
    ],
]


class Store:
    """Callboard's SQLite store. ``path=":memory:"`` gives a private in-memory database."""

    #: The file of the store opened last in this process: the CLI names it when an SQLite
    #: error escapes from code that uses ``conn`` directly (cursors, exports).
    last_path: ClassVar[str | None] = None

    def __init__(self, path: str | Path, *, max_pages: int | None = None) -> None:
        """``max_pages`` caps the file (``PRAGMA max_page_count``): a full disk, on purpose."""
        self.path = str(path)
        self.max_pages = max_pages
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()

    def fault(self, exc: sqlite3.Error) -> Exception:
        """``exc`` as the typed store error (see storefaults), or itself when it is a bug."""
        return storefaults.fault(exc, self.path) or exc

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
            storefaults.check_path(self.path)
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise storefaults.folder_error(self.path, exc) from None
            Store.last_path = self.path
        conn = sqlite3.connect(
            self.path, check_same_thread=False, timeout=5.0, isolation_level=None
        )
        try:
            conn.row_factory = sqlite3.Row
            if self.max_pages is not None:
                conn.execute(f"PRAGMA max_page_count = {int(self.max_pages)}")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # reads the schema
            migrate(conn)
            # WAL last: a file found not to be ours is left byte for byte as it was
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            conn.close()
            typed = storefaults.fault(exc, self.path)
            if typed is None and not isinstance(exc, sqlite3.ProgrammingError):
                # an SQLite file of some other program: our migrations do not fit it
                typed = storefaults.not_ours(exc, self.path)
            if typed is None:
                raise
            raise typed from None
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An IMMEDIATE transaction, committed on success and rolled back on error."""
        with self._lock:
            conn = self.conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self.fault(exc) from None
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")  # a full disk: nothing of this one is kept
                if isinstance(exc, sqlite3.Error):
                    raise self.fault(exc) from None
                raise

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Cursor:
        """Run one statement (autocommit) and return its cursor."""
        with self._lock:
            try:
                return self.conn.execute(sql, params)
            except sqlite3.Error as exc:
                raise self.fault(exc) from None

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        """Run a query and return all rows."""
        with self._lock:
            try:
                return self.conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise self.fault(exc) from None

    def tuples(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run a query and return all rows as plain tuples.

        Far cheaper than ``sqlite3.Row`` per row: for readers of many rows (the event log,
        exports, the chain check), which read in batches.
        """
        with self._lock:
            try:
                cur = self.conn.cursor()
                cur.row_factory = None
                return cur.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise self.fault(exc) from None

    def open(self) -> None:
        """Open (and migrate) the file now: a bad store fails here, typed, not later."""
        _ = self.conn

    @property
    def is_open(self) -> bool:
        """Whether the connection is open (``close`` releases the file)."""
        return self._conn is not None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

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
