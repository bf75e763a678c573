"""The team store on PostgreSQL: the store contract (:mod:`console.engine.store.base`) over
psycopg 3 and its connection pool.

SQL is written once, for both engines: ``?`` placeholders (outside string literals) become
``%s`` and a literal ``%`` is doubled, once per distinct statement. Rows answer
``row["col"]`` and ``row[0]``; ``tuples`` gives plain tuples. Python booleans are stored as
0/1, as SQLite stores them. psycopg failures become the typed store errors
(:mod:`console.engine.store.pgfaults`), never with the password.

Many consoles on many machines write the one hash chain: every ``transaction()`` takes
``pg_advisory_xact_lock`` (:data:`CHAIN_LOCK`) first, so write transactions are serialised
as SQLite's ``BEGIN IMMEDIATE`` serialises them: an append reads the head under the lock and
the chain never forks, and a read-then-write (the next incident id, a lease) cannot race. Every committed write says
``pg_notify('callboard_events', <this store's token>)``; :meth:`PostgresStore.wait_for_change`
LISTENs on a dedicated connection and wakes for other connections' commits.

Inside ``transaction()`` the thread's ``execute``/``query``/``tuples`` run on the
transaction's connection (they see its uncommitted rows, as on SQLite's one connection).
"""

from __future__ import annotations

import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
import psycopg_pool
from psycopg.adapt import Dumper
from psycopg.rows import RowMaker

from console.core.redact import REDACTOR
from console.engine.store.base import Params
from console.engine.store.pgfaults import not_ours, pg_fault, redact_url
from console.engine.store.pgschema import pg_migrate, pg_migrations, pg_version
from console.engine.store.sqlite import StoreState

__all__ = ["CHAIN_LOCK", "CHANNEL", "PgRow", "PostgresStore", "pg_sql"]

#: ``pg_advisory_xact_lock`` key serialising appends to the event chain ("cbchain").
CHAIN_LOCK = 0x6362636861696E
#: The NOTIFY channel every committed write is announced on.
CHANNEL = "callboard_events"
_NOTIFY = "SELECT pg_notify(%s, %s)"
_HIGH_WATER = "SELECT pg_sequence_last_value(pg_get_serial_sequence('events', 'seq'))"
# At commit, in one round trip: the high-water mark kept (see PgConn.chain_appended) and the
# write announced.
_SET_HIGH_WATER_AND_NOTIFY = (
    "SELECT setval(pg_get_serial_sequence('events', 'seq'), GREATEST(%s,"
    " COALESCE(pg_sequence_last_value(pg_get_serial_sequence('events', 'seq')), 0))),"
    " pg_notify(%s, %s)"
)


@lru_cache(maxsize=1024)
def pg_sql(sql: str) -> str:
    """A portable statement for psycopg: ``?`` outside quotes → ``%s``, ``%`` → ``%%``."""
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if quote is not None:
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
        elif ch == "?":
            out.append("%s")
            continue
        out.append("%%" if ch == "%" else ch)
    return "".join(out)


class PgRow:
    """One row: ``row["col"]``, ``row[0]``, ``keys()``, iteration and ``len`` as sqlite3.Row."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: Sequence[Any], index: dict[str, int]) -> None:
        self._values = values
        self._index = index

    def __getitem__(self, key: int | str) -> Any:
        if isinstance(key, str):
            try:
                return self._values[self._index[key]]
            except KeyError:
                raise IndexError(f"no such column: {key}") from None
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PgRow):
            return tuple(self._values) == tuple(other._values)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._values))

    def __repr__(self) -> str:
        return f"PgRow({tuple(self._values)!r})"


def _keyed_rows(cursor: Any) -> RowMaker[PgRow]:
    names = [c.name for c in cursor.description or ()]
    index = {name: i for i, name in enumerate(names)}

    def make(values: Sequence[Any]) -> PgRow:
        return PgRow(values, index)

    return make


class _BoolAsInt(Dumper):
    """Python booleans as 0/1 into INTEGER (BIGINT) columns, as SQLite stores them."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


def _adapt(params: Params) -> Any:
    if isinstance(params, dict):
        raise TypeError("the PostgreSQL store takes positional ? parameters only")
    return tuple(params)


class _Result:
    """What ``execute`` outside a transaction returns: the rows, read before the connection
    went back to the pool."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return list(self._rows)


# INSERT INTO table (columns) VALUES (?, ?, …) and nothing more (no ON CONFLICT, no RETURNING).
_PLAIN_INSERT = re.compile(
    r"\s*INSERT\s+INTO\s+(\w+)\s*\(([\w\s,]+)\)\s*VALUES\s*\(\s*\?(?:\s*,\s*\?)*\s*\)\s*\Z",
    re.IGNORECASE,
)


def _is_write(sql: str) -> bool:
    head = sql.lstrip()[:6].upper()
    return head not in ("SELECT", "WITH") and not head.startswith("VALUES")


class PgConn:
    """A transaction's connection: ``execute``/``executemany`` with portable SQL, plus the
    chain's duties (:class:`~console.engine.store.base.ChainHooks`)."""

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw
        self.wrote = False
        #: The last event seq written in this transaction (None: no event).
        self.last_seq: int | None = None
        self._locked = False

    def execute(self, sql: str, parameters: Params = (), /) -> Any:
        if _is_write(sql):
            self.wrote = True
        cur = self.raw.cursor(row_factory=_keyed_rows)
        cur.execute(pg_sql(sql), _adapt(parameters))
        return cur

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> Any:
        """Many rows: a plain ``INSERT INTO t (cols) VALUES (?, …)`` goes through COPY (the
        same rows, several times faster: bulk appends, imports); anything else is pipelined."""
        self.wrote = True
        cur = self.raw.cursor()
        plain = _PLAIN_INSERT.match(sql)
        if plain is not None:
            table, columns = plain.group(1), plain.group(2)
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in seq_of_parameters:
                    copy.write_row(row)
            return cur
        cur.executemany(pg_sql(sql), (tuple(p) for p in seq_of_parameters))
        return cur

    def tuples(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.raw.cursor() as cur:
            cur.execute(pg_sql(sql), _adapt(params))
            return cur.fetchall()

    def lock_chain(self) -> None:
        """Take the chain's advisory lock (held until this transaction ends)."""
        if not self._locked:
            self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK,))
            self._locked = True

    def chain_appended(self, last_seq: int) -> None:
        """At commit, the high-water mark (the identity sequence) is kept at ``last_seq`` or
        above: a removed tail still shows in ``audit verify``, as SQLite's AUTOINCREMENT
        record does."""
        self.last_seq = last_seq if self.last_seq is None else max(self.last_seq, last_seq)
        self.wrote = True

    def announce(self, token: str) -> None:
        """Before commit: keep the high-water mark and NOTIFY the other consoles."""
        if self.last_seq is not None:
            self.raw.execute(_SET_HIGH_WATER_AND_NOTIFY, (self.last_seq, CHANNEL, token))
        elif self.wrote:
            self.raw.execute(_NOTIFY, (CHANNEL, token))


class PostgresStore:
    """The store contract on a PostgreSQL database named by a ``postgresql://`` URL.

    ``password`` (resolved from ``{secret: NAME}``) is added to the URL's connection options
    and registered with the redactor; ``manual`` refuses to migrate at open (``callboard store
    migrate`` does); ``notice`` is told, in one line, when the schema is brought up to date.
    """

    engine = "postgres"
    #: Who writes through this store (config ``me``): the default actor of its events.
    actor: str | None = None
    #: That actor's display name (recorded in ``people`` with its first event).
    actor_name: str | None = None

    def __init__(
        self,
        url: str,
        *,
        password: str | None = None,
        manual: bool = False,
        notice: Callable[[str], None] | None = None,
        pool_size: int = 4,
        connect_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self._password = password
        if password:
            REDACTOR.add(password, "store.password")
        self._register_url_password(url)
        self.manual = manual
        self.notice = notice if notice is not None else _to_stderr
        self.pool_size = max(1, pool_size)
        self.connect_timeout = connect_timeout
        self.token = uuid.uuid4().hex
        self._pool: psycopg_pool.ConnectionPool[Any] | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._listener: psycopg.Connection[Any] | None = None
        self._listen_lock = threading.Lock()

    @staticmethod
    def _register_url_password(url: str) -> None:
        from urllib.parse import parse_qsl, unquote, urlsplit

        try:
            parts = urlsplit(url)
            if parts.password:
                REDACTOR.add(unquote(parts.password), "store.url")
            for key, value in parse_qsl(parts.query):
                if key.lower() == "password" and value:
                    REDACTOR.add(value, "store.url")
        except ValueError:
            pass

    # -- where and how ---------------------------------------------------------------------

    @property
    def location(self) -> str:
        """The URL without its password."""
        return redact_url(self.url)

    def _conninfo(self) -> str:
        from psycopg.conninfo import make_conninfo

        extra: dict[str, Any] = {"connect_timeout": max(1, round(self.connect_timeout))}
        if self._password:
            extra["password"] = self._password
        try:
            return make_conninfo(self.url, **extra)
        except psycopg.Error as exc:
            raise pg_fault(exc, self.location) or exc from None

    def _fault(self, exc: BaseException) -> BaseException:
        return pg_fault(exc, self.location) or exc

    @staticmethod
    def _configure(conn: psycopg.Connection[Any]) -> None:
        conn.adapters.register_dumper(bool, _BoolAsInt)

    def _connect(self, *, autocommit: bool) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self._conninfo(), autocommit=autocommit)
        except psycopg.Error as exc:
            raise self._fault(exc) from None
        self._configure(conn)
        return conn

    @property
    def pool(self) -> psycopg_pool.ConnectionPool[Any]:
        """The open pool, connecting (and migrating) on first use."""
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = self._open()
        return self._pool

    def _open(self) -> psycopg_pool.ConnectionPool[Any]:
        with self._connect(autocommit=True) as conn:
            try:
                pg_migrate(conn, where=self.location, manual=self.manual, notice=self.notice)
            except psycopg.Error as exc:
                typed = pg_fault(exc, self.location)
                raise (typed or not_ours(exc, self.location)) from None
        pool: psycopg_pool.ConnectionPool[Any] = psycopg_pool.ConnectionPool(
            self._conninfo(),
            min_size=1,
            max_size=self.pool_size,
            open=False,
            configure=self._configure,
            # an idle connection the server dropped (a restart, a laptop asleep) is replaced
            # when taken, not reported: one empty round trip per checkout
            check=psycopg_pool.ConnectionPool.check_connection,
            timeout=self.connect_timeout,
            name="callboard-store",
        )
        try:
            pool.open(wait=True, timeout=self.connect_timeout)
        except psycopg_pool.PoolTimeout as exc:
            pool.close()
            raise self._fault(exc) from None
        return pool

    def open(self) -> None:
        """Connect and migrate now: a bad URL, login or schema fails here, typed."""
        _ = self.pool

    @property
    def is_open(self) -> bool:
        return self._pool is not None

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
        with self._listen_lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None

    # -- statements ----------------------------------------------------------------------

    @contextmanager
    def _raw(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection for one unit of work (committed at the end, rolled back on
        an error); psycopg failures come out typed."""
        try:
            with self.pool.connection() as raw:
                yield raw
        except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
            raise self._fault(exc) from None

    @contextmanager
    def transaction(self) -> Iterator[PgConn]:
        """A transaction, committed on success and rolled back on error; every committed
        write is announced to the other consoles (NOTIFY)."""
        current: PgConn | None = getattr(self._local, "conn", None)
        if current is not None:  # nested: a savepoint inside the thread's transaction
            kept = current.last_seq
            try:
                with current.raw.transaction():
                    yield current
            except BaseException:
                current.last_seq = kept  # its events were rolled back with the savepoint
                raise
            return
        with self._raw() as raw:
            conn = PgConn(raw)
            self._local.conn = conn
            try:
                with raw.transaction():
                    conn.lock_chain()  # writers one at a time, as BEGIN IMMEDIATE on SQLite
                    yield conn
                    conn.announce(self.token)
            finally:
                self._local.conn = None

    def _run(self, sql: str, params: Params, *, keyed: bool) -> tuple[list[Any], int]:
        current: PgConn | None = getattr(self._local, "conn", None)
        if current is not None:
            try:
                if keyed:
                    cur = current.execute(sql, params)
                    return (cur.fetchall() if cur.description else []), cur.rowcount
                return current.tuples(sql, _adapt(params)), -1
            except psycopg.Error as exc:
                raise self._fault(exc) from None
        with self._raw() as raw:
            conn = PgConn(raw)
            if keyed:
                cur = conn.execute(sql, params)
                rows, count = (cur.fetchall() if cur.description else []), cur.rowcount
            else:
                rows, count = conn.tuples(sql, _adapt(params)), -1
            conn.announce(self.token)
            return rows, count

    def execute(self, sql: str, params: Params = ()) -> _Result:
        """Run one statement (committed at once, or inside this thread's transaction)."""
        rows, count = self._run(sql, params, keyed=True)
        return _Result(rows, count)

    def query(self, sql: str, params: Params = ()) -> list[PgRow]:
        """Run a query and return all rows."""
        return self._run(sql, params, keyed=True)[0]

    def tuples(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run a query and return all rows as plain tuples (for readers of many rows)."""
        return self._run(sql, params, keyed=False)[0]

    def plugin_state(self, backend: str) -> StoreState:
        """The persistent PluginState of one backend instance (the ``plugin_state`` table;
        the CLI keeps plugin state in the machine's local SQLite file instead)."""
        return StoreState(self, backend)

    # -- the chain and the schema ---------------------------------------------------------

    def high_water(self) -> int | None:
        """The highest event sequence number ever written (the ``events.seq`` sequence)."""
        rows = self.tuples(_HIGH_WATER)
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def schema_version(self) -> tuple[int, int]:
        """(stored version, latest known), read without migrating."""
        with self._connect(autocommit=True) as conn:
            try:
                return pg_version(conn), len(pg_migrations())
            except psycopg.Error as exc:
                raise self._fault(exc) from None

    def migrate(self) -> tuple[int, int]:
        """Apply every missing migration now (``callboard store migrate``): (before, after)."""
        with self._connect(autocommit=True) as conn:
            try:
                return pg_migrate(conn, where=self.location, notice=self.notice)
            except psycopg.Error as exc:
                typed = pg_fault(exc, self.location)
                raise (typed or not_ours(exc, self.location)) from None

    # -- live updates ---------------------------------------------------------------------

    def wait_for_change(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True as soon as another connection (another
        console, or another store object in this one) committed a write.

        LISTENs on a dedicated connection opened by the first call: changes committed before
        it are not reported. This store's own writes are not reported.
        """
        with self._listen_lock:
            if self._listener is None:
                conn = self._connect(autocommit=True)
                try:
                    conn.execute(f"LISTEN {CHANNEL}")
                except psycopg.Error as exc:
                    conn.close()
                    raise self._fault(exc) from None
                self._listener = conn
            conn = self._listener
            deadline = time.monotonic() + max(0.0, timeout)
            changed = False
            try:
                for _ in range(100_000):  # bounded: a flood of this store's own writes
                    left = 0.0 if changed else max(0.0, deadline - time.monotonic())
                    got = False
                    for note in conn.notifies(timeout=left, stop_after=1):
                        got = True
                        changed = changed or note.payload != self.token
                    if not got and (changed or time.monotonic() >= deadline):
                        break
                return changed
            except psycopg.Error as exc:
                self._listener = None
                conn.close()
                raise self._fault(exc) from None


def _to_stderr(message: str) -> None:
    print(f"callboard: {message}", file=sys.stderr, flush=True)
