"""Running a CPU-heavy step (decoding a large backend answer) off the event loop.

The event loop is the console's UI thread; a 30 MB answer decoded on it freezes every key.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import sys
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["off_loop", "trim_memory", "trim_soon"]


async def off_loop(fn: Callable[[threading.Event], Any]) -> Any:
    """``fn(cancel)`` in a daemon thread. The awaiting call can be cancelled (a timeout) and
    returns at once; ``cancel`` is then set so ``fn`` can stop early (an abandoned decode
    competing for the GIL slowed everything after it by ~3 s), and a process that exits does
    not wait for it (a ThreadPoolExecutor's threads are joined at exit). Memory the thread
    freed is returned to the OS afterwards."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()
    cancel = threading.Event()

    def settle(result: Any, error: BaseException | None) -> None:
        if done.cancelled():
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)

    def work() -> None:
        result: Any = None
        error: BaseException | None = None
        try:
            result = fn(cancel)
        except BaseException as exc:  # handed to the awaiting task, which raises it
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is closed: the caller gave up
            loop.call_soon_threadsafe(settle, result, error)
        del result, error
        trim_memory()

    threading.Thread(target=work, name="callboard-decode", daemon=True).start()
    try:
        return await done
    except asyncio.CancelledError:
        cancel.set()
        raise


_LIBC: Any = None


def trim_memory() -> None:
    """Hand freed heap back to the OS (glibc ``malloc_trim``); a no-op elsewhere. Without
    it the arenas a huge answer used stay in the process's RSS after the answer is gone."""
    global _LIBC
    if _LIBC is None:
        name = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
        try:
            _LIBC = ctypes.CDLL(name) if name else False
        except OSError:
            _LIBC = False
    if _LIBC and hasattr(_LIBC, "malloc_trim"):
        _LIBC.malloc_trim(0)


def trim_soon() -> None:
    """:func:`trim_memory` in a daemon thread (ctypes releases the GIL; the caller's thread,
    the UI's, does not wait for it)."""
    threading.Thread(target=trim_memory, name="callboard-trim", daemon=True).start()
