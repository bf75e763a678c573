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
from console.engine.store.base import StoreLike
from console.errors import StoreError

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
    # Function health from OTLP (console/engine/otlp/health.py): per function, per minute
    # (step 60) and per hour (step 3600), the requests by response class and a latency
    # histogram with fixed bounds (console/core/red.py BOUNDS_MS); the functions seen; and
    # the last value of each cumulative metric stream (to turn it into deltas).
    [
        """CREATE TABLE red_tallies (
            function_id TEXT NOT NULL, source TEXT NOT NULL, step INTEGER NOT NULL,
            bucket INTEGER NOT NULL,
            requests REAL NOT NULL DEFAULT 0, known REAL NOT NULL DEFAULT 0,
            ok REAL NOT NULL DEFAULT 0, e5xx REAL NOT NULL DEFAULT 0,
            timeout REAL NOT NULL DEFAULT 0, throttle REAL NOT NULL DEFAULT 0,
            auth REAL NOT NULL DEFAULT 0, serialization REAL NOT NULL DEFAULT 0,
            client REAL NOT NULL DEFAULT 0, cold REAL NOT NULL DEFAULT 0,
            cold_known REAL NOT NULL DEFAULT 0, h0 REAL NOT NULL DEFAULT 0,
            h1 REAL NOT NULL DEFAULT 0, h2 REAL NOT NULL DEFAULT 0,
            h3 REAL NOT NULL DEFAULT 0, h4 REAL NOT NULL DEFAULT 0,
            h5 REAL NOT NULL DEFAULT 0, h6 REAL NOT NULL DEFAULT 0,
            h7 REAL NOT NULL DEFAULT 0, h8 REAL NOT NULL DEFAULT 0,
            h9 REAL NOT NULL DEFAULT 0, h10 REAL NOT NULL DEFAULT 0,
            h11 REAL NOT NULL DEFAULT 0, h12 REAL NOT NULL DEFAULT 0,
            h13 REAL NOT NULL DEFAULT 0, h14 REAL NOT NULL DEFAULT 0,
            h15 REAL NOT NULL DEFAULT 0, h16 REAL NOT NULL DEFAULT 0,
            h17 REAL NOT NULL DEFAULT 0, h18 REAL NOT NULL DEFAULT 0,
            h19 REAL NOT NULL DEFAULT 0, h20 REAL NOT NULL DEFAULT 0,
            h21 REAL NOT NULL DEFAULT 0, h22 REAL NOT NULL DEFAULT 0,
            h23 REAL NOT NULL DEFAULT 0,
            PRIMARY KEY (function_id, source, step, bucket))""",
        "CREATE INDEX red_tallies_age ON red_tallies (step, bucket)",
        # the burn windows are read from this index alone (no table lookups, no sort)
        """CREATE INDEX red_tallies_windows ON red_tallies
            (step, function_id, source, bucket, requests, e5xx, timeout)""",
        """CREATE TABLE red_functions (
            function_id TEXT NOT NULL, source TEXT NOT NULL, service TEXT NOT NULL,
            operation TEXT NOT NULL, kind TEXT NOT NULL, first_at REAL NOT NULL,
            last_at REAL NOT NULL, PRIMARY KEY (function_id, source))""",
        """CREATE TABLE red_streams (
            stream TEXT PRIMARY KEY, start_ns INTEGER NOT NULL, time_ns INTEGER NOT NULL,
            vec TEXT NOT NULL, seen_at REAL NOT NULL)""",
        "CREATE INDEX red_streams_seen ON red_streams (seen_at)",
    ],
    # A team on one store (console/engine/team/): the responders' display names, the lease
    # a mutating run holds on its function (times: REAL epoch seconds written by Python),
    # and the incidents pushed here from an offline store (the local chain's head with them).
    [
        """CREATE TABLE people (
            handle TEXT PRIMARY KEY, name TEXT NOT NULL, updated_at TEXT NOT NULL)""",
        """CREATE TABLE leases (
            function_id TEXT PRIMARY KEY, holder TEXT NOT NULL, host TEXT NOT NULL,
            run_id TEXT NOT NULL, runbook TEXT NOT NULL, incident_id TEXT,
            acquired REAL NOT NULL, heartbeat REAL NOT NULL, expires REAL NOT NULL,
            token TEXT NOT NULL)""",
        """CREATE TABLE pushes (
            id TEXT PRIMARY KEY, source TEXT NOT NULL, source_incident TEXT NOT NULL,
            incident_id TEXT NOT NULL, source_head_seq INTEGER NOT NULL,
            source_head_hash TEXT NOT NULL, events INTEGER NOT NULL,
            new_events INTEGER NOT NULL, pushed_at TEXT NOT NULL, pushed_by TEXT NOT NULL)""",
        "CREATE INDEX pushes_incident ON pushes (incident_id, pushed_at)",
    ],
    # An incident's kind: ``incident``, or ``drill`` (a practice run's scorecard, #16), which
    # `incident list`, the console and the run links leave out unless asked.
    ["ALTER TABLE incidents ADD COLUMN kind TEXT NOT NULL DEFAULT 'incident'"],
]


class Store:
    """Callboard's SQLite store. ``path=":memory:"`` gives a private in-memory database."""

    #: Which engine keeps the store contract (console/engine/store/base.py).
    engine = "sqlite"

    #: The file of the store opened last in this process: the CLI names it when an SQLite
    #: error escapes from code that uses ``conn`` directly (cursors, exports).
    last_path: ClassVar[str | None] = None

    def __init__(self, path: str | Path, *, max_pages: int | None = None) -> None:
        """``max_pages`` caps the file (``PRAGMA max_page_count``): a full disk, on purpose."""
        self.path = str(path)
        self.max_pages = max_pages
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        #: Who writes through this store (config ``me``): the default actor of its events.
        self.actor: str | None = None
        #: That actor's display name (recorded in ``people`` with its first event).
        self.actor_name: str | None = None
        self._data_version: int | None = None

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
        except StoreError as exc:  # a schema newer than this code
            conn.close()
            raise StoreError(f"{self.path}: {exc}") from None
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

    def wait_for_change(self, timeout: float) -> bool:
        """Wait until another connection (another process) commits a change, at most
        ``timeout`` seconds; True if one did.

        Polls ``PRAGMA data_version`` every 150 ms (a counter SQLite bumps when another
        connection commits; this connection's own writes leave it alone): cheap, no read of
        any table. The first call only records the counter unless it already moved.
        """
        import time

        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            with self._lock:
                try:
                    version = int(self.conn.execute("PRAGMA data_version").fetchone()[0])
                except sqlite3.Error as exc:
                    raise self.fault(exc) from None
            if self._data_version is None:
                self._data_version = version
            elif version != self._data_version:
                self._data_version = version
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(0.15, left))

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

    @property
    def location(self) -> str:
        """The file (or ``:memory:``)."""
        return self.path

    def high_water(self) -> int | None:
        """The highest event sequence number ever written (SQLite's AUTOINCREMENT record)."""
        try:
            rows = self.query("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
        except sqlite3.DatabaseError:
            return None
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def schema_version(self) -> tuple[int, int]:
        """(stored version, latest known); opening the file migrates it."""
        return int(self.query("PRAGMA user_version")[0][0]), len(MIGRATIONS)

    def migrate(self) -> tuple[int, int]:
        """Open (which migrates) now: (version before, version after)."""
        before = 0
        if self._conn is None and self.path != ":memory:" and Path(self.path).is_file():
            try:
                with sqlite3.connect(f"file:{self.path}?mode=ro", uri=True) as peek:
                    before = int(peek.execute("PRAGMA user_version").fetchone()[0])
                peek.close()
            except sqlite3.Error:
                before = 0  # opening below names what is wrong with the file
        elif self._conn is not None:
            before = self.schema_version()[0]
        self.open()
        return before, self.schema_version()[0]


class StoreState:
    """A PluginState kept in the ``plugin_state`` table (values are JSON), on either engine."""

    def __init__(self, store: StoreLike, backend: str) -> None:
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
    if version > len(steps):
        raise StoreError(
            f"the store's schema is at version {version}, newer than this Callboard knows "
            f"(version {len(steps)}); upgrade Callboard, or use another file with --db"
        )
    while version < len(steps):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # read again under the write lock: another process opening the same new file
            # may have applied this step since (it then is not applied twice)
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version < len(steps):
                for statement in steps[version]:
                    conn.execute(statement)
                version += 1
                conn.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return len(steps)
