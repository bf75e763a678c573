"""Pausing the cyclic garbage collector while a big fleet's snapshot is built.

Building 10,000 functions' health (burn rates, findings, the snapshot's records) allocates
tens of thousands of containers that live as long as the snapshot; left alone, the
collector walks them (and the whole heap, in a full collection) again and again while
they are made, for no garbage found. Reference counting still frees everything as usual.
Used by the engine's snapshot build and, through ``console.plugin_api``, by the demo
plugin's generation; pauses may nest and overlap across threads, and the collector ends
enabled unless the caller had it off.

Paused sections nest and may run in several threads at once (signals and baselines run
side by side): the collector is enabled again when the last one ends, and only if it was
enabled when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused(active: bool = True) -> Iterator[None]:
    """No automatic collection inside the block (when ``active``); see the module text."""
    global _depth, _was_enabled
    if not active:
        yield
        return
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
