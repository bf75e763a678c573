"""The store contract: what incidents, runbooks, the event chain and the CLI use of a store.

Two engines keep it: :class:`~console.engine.store.sqlite.Store` (the default, one local
file) and :class:`~console.engine.store.postgres.PostgresStore` (a team's shared database).
:func:`~console.engine.store.connect.open_store` picks one from a path or a URL.

SQL written against the contract is portable: ``?`` placeholders, ``ON CONFLICT``, TEXT,
INTEGER and REAL columns, no engine-only functions. A row answers ``row["col"]`` and
``row[0]`` on both engines; ``tuples`` gives plain tuples (for readers of many rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

__all__ = ["ChainHooks", "Conn", "Cursor", "Params", "Row", "StoreLike"]

#: Parameters of one statement: positional for ``?`` placeholders (named for SQLite only).
Params = tuple[Any, ...] | dict[str, Any]


class Row(Protocol):
    """One result row: by column name or by position."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    """What a statement run on a :class:`Conn` returns."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Conn(Protocol):
    """The connection a :meth:`StoreLike.transaction` yields: statements inside it commit
    together or not at all."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> Any: ...


@runtime_checkable
class ChainHooks(Protocol):
    """Extra duties of a transaction's connection on an engine shared by many writers
    (PostgreSQL): the chain's appends are serialised and announced. SQLite's connection has
    none of these (``BEGIN IMMEDIATE`` already serialises every writer of the file)."""

    def lock_chain(self) -> None:
        """Serialise appends to the event chain until this transaction ends."""

    def chain_appended(self, last_seq: int) -> None:
        """Events up to ``last_seq`` were written in this transaction."""


class StoreLike(Protocol):
    """One store, whatever the engine. Opening is lazy: constructing one touches nothing."""

    #: ``"sqlite"`` or ``"postgres"``.
    engine: str
    #: Who writes through this store (config ``me``; None: ``$USER@host``).
    actor: str | None
    #: That actor's display name, for the responders list (None: none).
    actor_name: str | None

    @property
    def location(self) -> str:
        """Where the store is, fit to show: a file path, or the URL without its password."""

    def transaction(self) -> AbstractContextManager[Any]:
        """A write transaction yielding a :class:`Conn`: committed on success, rolled back
        on error. Writers run one at a time. Do not nest one (SQLite refuses; PostgreSQL
        makes it a savepoint)."""

    def execute(self, sql: str, params: Params = ()) -> Any:
        """Run one statement (autocommit, or inside this thread's open transaction)."""

    def query(self, sql: str, params: Params = ()) -> list[Any]:
        """All rows of a query, each a :class:`Row`."""

    def tuples(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """All rows of a query as plain tuples."""

    def open(self) -> None:
        """Connect (and migrate) now: a bad store fails here, typed."""

    @property
    def is_open(self) -> bool: ...

    def close(self) -> None: ...

    def plugin_state(self, backend: str) -> Any:
        """The persistent PluginState of one backend instance."""

    def high_water(self) -> int | None:
        """The highest event sequence number ever written (None when unknown)."""

    def schema_version(self) -> tuple[int, int]:
        """(the stored schema's version, the latest this code knows)."""

    def migrate(self) -> tuple[int, int]:
        """Bring the schema up to date now: (version before, version after)."""

    def wait_for_change(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True when another connection committed a change."""
