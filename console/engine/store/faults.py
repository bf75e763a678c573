"""SQLite failures of the store as one clear line: which file, what is wrong, what to do.

A bad file or path (not a database, damaged, a directory, a device, read-only) is a
:class:`~console.errors.StoreError` (exit 2); a failing environment (disk full, I/O error,
locked by another process) is a :class:`~console.errors.StoreUnavailable` (exit 1).
"""

from __future__ import annotations

import os
import sqlite3
import stat

from console.errors import StoreError, StoreUnavailable

__all__ = ["check_path", "fault", "folder_error", "not_ours"]

_USE = "use another file with --db (or CALLBOARD_DB)"
_ELSEWHERE = "or " + _USE


def check_path(path: str) -> None:
    """Refuse, before SQLite sees it, a path that cannot hold the store.

    Raises:
        StoreError: the path is a directory or a device, or a parent is not a folder.
    """
    try:
        st = os.stat(path)
    except NotADirectoryError:
        raise StoreError(
            f"{path}: a parent of this path is a file, not a folder; {_ELSEWHERE}"
        ) from None
    except OSError:
        return  # absent: SQLite creates it (or fails with a reason we map below)
    if stat.S_ISDIR(st.st_mode):
        raise StoreError(f"{path}: is a directory, not a database file; {_USE}")
    if not stat.S_ISREG(st.st_mode):
        raise StoreError(f"{path}: is not a regular file (a device?); {_USE}")


def folder_error(path: str, exc: OSError) -> StoreError:
    """The parent folder of the store could not be created."""
    why = exc.strerror or str(exc)
    if isinstance(exc, FileExistsError | NotADirectoryError):
        why = "a parent of this path is a file, not a folder"
    return StoreError(f"{path}: cannot create its folder ({why}); {_ELSEWHERE}")


def not_ours(exc: sqlite3.Error, path: str) -> StoreError:
    """An SQLite database whose schema is not Callboard's (migrating it failed)."""
    return StoreError(
        f"{path}: an SQLite database, but not Callboard's ({exc}); move it aside, {_ELSEWHERE}"
    )


def fault(exc: sqlite3.Error, path: str) -> StoreError | StoreUnavailable | None:
    """The typed error for an SQLite failure on the store at ``path``; None for a failure
    that is not about the file or the environment (an SQL bug: let it surface as one)."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    said = str(exc)
    if primary in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT) or "malformed" in said:
        return StoreError(
            f"{path}: not a Callboard database, or damaged ({said}); restore it from a "
            f"backup or move it aside, {_ELSEWHERE}"
        )
    if primary == sqlite3.SQLITE_CANTOPEN:
        return StoreError(
            f"{path}: cannot open the database ({said}); check the path, {_ELSEWHERE}"
        )
    if primary == sqlite3.SQLITE_READONLY:
        return StoreError(
            f"{path}: the database cannot be written (read-only or immutable file, or a "
            f"read-only file system); make it writable, {_ELSEWHERE}"
        )
    if primary == sqlite3.SQLITE_FULL:
        return StoreUnavailable(
            f"{path}: the disk is full; free space and try again (what was stored before is intact)"
        )
    if primary == sqlite3.SQLITE_IOERR:
        return StoreUnavailable(
            f"{path}: disk I/O error{'' if said == 'disk I/O error' else f' ({said})'}; "
            f"check the disk and free space, {_ELSEWHERE}"
        )
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StoreUnavailable(
            f"{path}: the database is locked by another process; try again in a moment"
        )
    return None
