"""Writing an export so that the file is either the earlier one or the whole new one.

The bytes go to a temporary file in the same folder (created exclusively, with the
permissions a new file would get, or those of the file it replaces), are flushed to disk,
and the temporary file is renamed over the target — a rename within one folder is atomic.
A failure (a full disk, a quota, an I/O error) removes the temporary file and leaves the
target untouched. A target that is not a regular file (``/dev/stdout``, a FIFO) is written
in place: there is nothing to rename over.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

from console.errors import CallboardError, UserError

#: Errors that mean "choose another path" rather than "the machine is in trouble".
_PATH_ERRORS = frozenset({errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EACCES, errno.EPERM,
                          errno.EROFS, errno.ENAMETOOLONG, errno.ELOOP})  # fmt: skip
_SPACE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class OutputPathError(UserError):
    """The output path cannot be written (no such folder, a folder, no permission): exit 2."""


class WriteFailed(CallboardError):
    """Writing failed part way (a full disk, an I/O error); the earlier file is kept: exit 1."""


def _error(path: Path, exc: OSError, *, replaced: bool) -> CallboardError:
    reason = exc.strerror or str(exc)
    if exc.errno in _PATH_ERRORS:
        return OutputPathError(f"cannot write {path}: {reason}; choose another file (-o FILE)")
    kept = "the earlier file is unchanged" if replaced else "nothing was written over it"
    advice = "free some space and export again" if exc.errno in _SPACE_ERRORS else "try again"
    return WriteFailed(f"cannot write {path}: {reason}; {kept} — {advice}")


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` as one step (see the module docstring).

    Raises:
        OutputPathError: the folder is missing, the path is a folder, or permission denied.
        WriteFailed: the write itself failed (e.g. no space left); ``path`` is unchanged.
    """
    try:
        st = os.stat(path)  # through symlinks
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _error(path, exc, replaced=False) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputPathError(f"cannot write {path}: it is a folder; name a file (-o FILE)")
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_in_place(path, data)  # /dev/stdout, a FIFO: nothing to rename over
        return
    # Through a symlink the file it points to is replaced, and the link stays.
    target = Path(os.path.realpath(path))
    tmp = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    try:  # O_EXCL: never follow or reuse something already there; 0o666 & umask as usual
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    except OSError as exc:
        raise _error(path, exc, replaced=st is not None) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if st is not None:
                os.fchmod(f.fileno(), stat.S_IMODE(st.st_mode))
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _error(path, exc, replaced=st is not None) from None
        raise
    _sync_folder(target.parent)


def _write_in_place(path: Path, data: bytes) -> None:
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise _error(path, exc, replaced=False) from None


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
