"""Open a store by URL or path: the one way code outside the store picks an engine.

This version knows SQLite only (a path, ``sqlite:///path`` or ``:memory:``); the PostgreSQL
engine (#14, "pgstore") replaces it with one that also opens ``postgresql://`` URLs, with the
same signature.
"""

from __future__ import annotations

from pathlib import Path

from console.engine.store.sqlite import Store
from console.errors import UserError

__all__ = ["open_store"]


def open_store(url_or_path: str, *, password: str | None = None) -> Store:
    """The store at ``url_or_path``, opened (and migrated) now: a bad one fails here, typed.

    Raises:
        UserError: a URL scheme this build cannot open.
        StoreError: the file cannot be a store.
    """
    del password  # SQLite has none
    text = url_or_path.strip()
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///") - 1 :]
    elif "://" in text:
        scheme = text.split("://", 1)[0]
        raise UserError(f"cannot open a {scheme}:// store here: give an SQLite file path")
    store = Store(text if text == ":memory:" else Path(text).expanduser())
    store.open()
    return store
