"""The CLI's one print path: nothing a command writes can drive the operator's terminal.

:func:`guarded_streams` wraps ``sys.stdout`` and ``sys.stderr`` for the whole command
(``console.cli.main``), so every ``click.echo``, rich table, JSON line and export written to
the terminal passes :class:`SafeStream`. Written to a pipe or a file, not one escape or
control byte passes (tab, newline and CR LF excepted). On a terminal only SGR sequences
(``ESC [ … m``: colour and bold, what rich and click emit) pass; a clipboard write (OSC 52),
a title (OSC 0), a screen clear (``ESC [ 2 J``) or a C1 control never does.

Data is already cleaned where it enters the model (:mod:`console.core.sanitize`); this is
the renderer-side guarantee for everything else (an old row in the store, a step's output,
a message nobody thought of).

It is also where a reader that went away is handled, once: when ``callboard status | head``
closes the pipe, the first write that fails points the stream's descriptor at
``/dev/null`` and every later write is dropped, so the command finishes what it does (a
runbook is never cut off half way by ``| head``) and exits with its own code; no traceback,
no "Broken pipe" message, none at interpreter exit either.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from console.core.sanitize import SEQUENCE

__all__ = ["SafeBinary", "SafeStream", "guarded_streams", "safe_terminal_text"]

_SGR = re.compile(r"\x1b\[[0-9;:]*m")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_KEEP_CRLF = "\ue000"  # a private-use stand-in while lone CRs are dropped


def safe_terminal_text(text: str, *, keep_sgr: bool) -> str:
    """``text`` with every escape sequence and control character removed, except tab,
    newline, CR LF and (``keep_sgr``) colour/style sequences."""
    if _CONTROL.search(text) is None:
        return text
    text = text.replace("\r\n", _KEEP_CRLF)
    if keep_sgr:
        kept: list[str] = []

        def strip(chunk: str) -> str:
            return _CONTROL.sub("", SEQUENCE.sub("", chunk))

        last = 0
        for m in _SGR.finditer(text):
            kept.append(strip(text[last : m.start()]))
            kept.append(m.group(0))
            last = m.end()
        kept.append(strip(text[last:]))
        return "".join(kept).replace(_KEEP_CRLF, "\r\n")
    return _CONTROL.sub("", SEQUENCE.sub("", text)).replace(_KEEP_CRLF, "\r\n")


class _Pipe:
    """Whether the reader of one stream is still there (shared by its text and bytes sides)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.gone = False

    def call(self, method: Callable[..., object], *args: Any) -> None:
        """``method(*args)`` unless the reader went away; a broken pipe ends all writing."""
        if self.gone:
            return
        try:
            method(*args)
        except BrokenPipeError:
            self.gone = True
            # the bytes still buffered (flushed at exit) go to /dev/null instead of raising
            with contextlib.suppress(AttributeError, OSError, ValueError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                try:
                    os.dup2(devnull, self._inner.fileno())
                finally:
                    os.close(devnull)


class SafeBinary:
    """The bytes side of :class:`SafeStream`: UTF-8 in, filtered, UTF-8 out, so writing to
    ``sys.stdout.buffer`` (as click does on a misconfigured locale) cannot go around."""

    def __init__(self, inner: Any, tty: bool, pipe: _Pipe | None = None) -> None:
        self._inner = inner
        self._tty = tty
        self._pipe = pipe or _Pipe(inner)

    def write(self, data: bytes) -> int:
        text = bytes(data).decode("utf-8", "surrogateescape")
        clean = safe_terminal_text(text, keep_sgr=self._tty)
        self._pipe.call(self._inner.write, clean.encode("utf-8", "surrogateescape"))
        return len(data)

    def flush(self) -> None:
        self._pipe.call(self._inner.flush)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class SafeStream:
    """A text stream that passes :func:`safe_terminal_text` over everything written.

    Everything else (``isatty``, ``encoding``, ``fileno``) is the wrapped stream's; its
    ``buffer`` is wrapped too (:class:`SafeBinary`). Once the reader has gone (a broken
    pipe), writes and flushes are dropped.
    """

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner
        try:
            self._tty = bool(inner.isatty())
        except (AttributeError, ValueError):
            self._tty = False
        self._pipe = _Pipe(inner)
        raw = getattr(inner, "buffer", None)
        self.buffer = None if raw is None else SafeBinary(raw, self._tty, self._pipe)

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # what a text stream says to bytes
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._pipe.call(self._inner.write, safe_terminal_text(text, keep_sgr=self._tty))
        return len(text)

    def flush(self) -> None:
        self._pipe.call(self._inner.flush)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def isatty(self) -> bool:
        return self._tty

    @property
    def gone(self) -> bool:
        """Whether the reader went away (a broken pipe): a follower stops there."""
        return self._pipe.gone

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextlib.contextmanager
def guarded_streams() -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` wrapped in :class:`SafeStream` while inside."""
    saved = sys.stdout, sys.stderr
    if saved[0] is not None and not isinstance(saved[0], SafeStream):
        sys.stdout = SafeStream(saved[0])
    if saved[1] is not None and not isinstance(saved[1], SafeStream):
        sys.stderr = SafeStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
