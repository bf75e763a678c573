"""Which engine keeps a store: ``postgresql://`` or ``postgres://`` → the team store on
PostgreSQL; anything else is an SQLite file path (or ``:memory:``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from console.engine.store.base import StoreLike
from console.engine.store.pgfaults import is_pg_url, redact_url
from console.errors import StoreError

__all__ = ["is_pg_url", "open_store"]


def open_store(
    url_or_path: str | Path,
    *,
    password: str | None = None,
    manual: bool = False,
    notice: Callable[[str], None] | None = None,
) -> StoreLike:
    """The store at ``url_or_path`` (not connected yet: the first use connects and migrates).

    ``password`` (a resolved ``{secret: NAME}``) and ``manual`` (``store.migrate: manual``)
    apply to PostgreSQL only.

    Raises:
        StoreError: a PostgreSQL URL, but the ``postgres`` extra (psycopg) is not installed.
    """
    text = str(url_or_path)
    if is_pg_url(text):
        try:
            from console.engine.store.postgres import PostgresStore
        except ImportError as exc:
            raise StoreError(
                f"{redact_url(text)}: a PostgreSQL store needs psycopg "
                f"(pip install 'callboard[postgres]'): {exc.msg}"
            ) from None
        return PostgresStore(text, password=password, manual=manual, notice=notice)
    from console.engine.store.sqlite import Store

    return Store(text if text == ":memory:" else Path(text))
