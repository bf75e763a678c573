"""Pausing the cyclic garbage collector while a large batch of long-lived objects is made.

Building 10,000 functions' health, generating a big demo fleet, decoding a large backend
answer or exporting a 100,000-event incident allocates hundreds of thousands of containers that outlive the batch; left alone,
the collector walks them (and the whole heap, in a full collection) again and again while
they are made, for no garbage found. Reference counting still frees everything as usual.

Paused sections nest and may run in several threads at once (signals and baselines run
side by side, a decode beside a snapshot build): the collector is enabled again when the
last one ends, and only if it was enabled when the first began. A section that asks to
``freeze`` has what it made moved out of the collector's view (``gc.freeze``) at that
moment, so the next collections do not walk it either. Used by the engine and, through
``console.plugin_api``, by the demo plugin.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False
_freeze = False


@contextmanager
def gc_paused(active: bool = True, *, freeze: bool = False) -> Iterator[None]:
    """No automatic collection inside the block (when ``active``); see the module text."""
    global _depth, _was_enabled, _freeze
    if not active:
        yield
        return
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
        _freeze = _freeze or freeze
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                if _was_enabled:
                    if _freeze:
                        gc.freeze()
                    gc.enable()
                _freeze = False
