"""JSON decoding that lets other threads run: the outer levels in Python, the rest in C.

``json.loads`` is C code that holds the GIL for the whole document: a 30 MB answer decoded
in a worker thread still froze the event loop (the console's keys) for seconds. Here the
outer :data:`PY_LEVELS` levels of objects and arrays are walked by the stdlib's pure-Python
``JSONObject``/``JSONArray``, and every value below them (one Prometheus series, one span)
is decoded by the C scanner in one short call, so the interpreter switches threads between
values. The bytes are turned into text in 1 MiB slices for the same reason, and the cyclic
garbage collector is paused meanwhile and what exists at the end is frozen (``gc.freeze``):
JSON makes no cycles, and collections over the new answer were themselves ~0.5 s stalls. A hostile single huge value at depth
``PY_LEVELS`` is still decoded in one C call; the response-size limit bounds it.
"""

from __future__ import annotations

import codecs
import json
import json.decoder
import json.scanner
import threading
from collections.abc import Callable
from typing import Any

from console.core.gcpause import gc_paused

__all__ = ["PY_LEVELS", "Cancelled", "loader", "loads"]

#: Levels walked in Python; Prometheus's ``data.result[i]`` is the fourth.
PY_LEVELS = 3

_DECODER = json.JSONDecoder()
_C_MAKE: Any = getattr(json.scanner, "c_make_scanner", None)
_C_SCAN: Callable[[str, int], tuple[Any, int]] | None = _C_MAKE(_DECODER) if _C_MAKE else None


class Cancelled(Exception):
    """The decode was given up by its caller (a timeout): stopped between two values."""


def _scanner(
    depth: int, cancel: threading.Event | None = None
) -> Callable[[str, int], tuple[Any, int]]:
    assert _C_SCAN is not None
    c_scan = _C_SCAN
    if depth >= PY_LEVELS:
        return c_scan
    deeper = _scanner(depth + 1, cancel)
    memo: dict[str, str] = {}

    def scan(s: str, idx: int) -> tuple[Any, int]:
        if cancel is not None and cancel.is_set():
            raise Cancelled
        ch = s[idx : idx + 1]
        if ch == "{":
            return json.decoder.JSONObject(  # type: ignore[attr-defined]
                (s, idx + 1), True, deeper, None, None, memo
            )
        if ch == "[":
            return json.decoder.JSONArray((s, idx + 1), deeper)  # type: ignore[attr-defined]
        return c_scan(s, idx)

    return scan


_SCAN = _scanner(0) if _C_SCAN is not None else None
_WS = json.decoder.WHITESPACE.match  # type: ignore[attr-defined]


_SLICE = 1024 * 1024


def _text(body: bytes) -> str:
    decoder = codecs.getincrementaldecoder(json.detect_encoding(body))("surrogatepass")
    view = memoryview(body)
    parts = [decoder.decode(view[i : i + _SLICE]) for i in range(0, len(body), _SLICE)]
    parts.append(decoder.decode(b"", final=True))
    return "".join(parts)


def loads(body: bytes | str, cancel: threading.Event | None = None) -> Any:
    """``json.loads(body)``, with the same result and errors (``JSONDecodeError``,
    ``RecursionError`` for very deep nesting, ``UnicodeDecodeError``); raises
    :class:`Cancelled` soon after ``cancel`` is set."""
    if _SCAN is None:  # pragma: no cover - Python without the C accelerator
        return json.loads(body)
    scan = _SCAN if cancel is None else _scanner(0, cancel)
    # The answer's ~1M new objects would make the next collections walk them all (a 0.5 s
    # stall) only to find no garbage: frozen out of view, as the console does with what it
    # holds after its first paint; reference counting still frees them with the answer.
    with gc_paused(freeze=True):
        return _loads(scan, body if isinstance(body, str) else _text(body))


def loader(cancel: threading.Event) -> Callable[[bytes], Any]:
    """:func:`loads` bound to ``cancel``."""
    return lambda body: loads(body, cancel)


def _loads(scan: Callable[[str, int], tuple[Any, int]], s: str) -> Any:
    if s.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", s, 0)
    idx = _WS(s, 0).end()
    try:
        value, end = scan(s, idx)
    except StopIteration as err:
        raise json.JSONDecodeError("Expecting value", s, err.value) from None
    end = _WS(s, end).end()
    if end != len(s):
        raise json.JSONDecodeError("Extra data", s, end)
    return value
