"""Redaction: every known secret value is replaced before text leaves the process.

Every output path (logs, events, exports, the screen, JSON) goes through :data:`REDACTOR`
(or :func:`redact` / :func:`redact_obj`). The secrets module registers each value it
resolves, so a value read once is hidden everywhere afterwards. With no secret known, each
call returns its input unchanged at the cost of one check.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from typing import Any
from urllib.parse import quote

__all__ = ["MIN_SECRET_LENGTH", "REDACTOR", "RedactingFilter", "Redactor", "redact", "redact_obj"]

#: Shorter values are ignored: redacting "abc" everywhere would mangle ordinary text.
MIN_SECRET_LENGTH = 4


_SECRET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def is_secret_name(name: object) -> bool:
    """A usable secret name: letters, digits, ``-``, ``_``, ``.``, starting alphanumeric."""
    return isinstance(name, str) and _SECRET_NAME.match(name) is not None


class Redactor:
    """Replaces known secret values in text by ``«redacted:NAME»`` (or ``***`` if unnamed)."""

    def __init__(self) -> None:
        self._names: dict[str, str | None] = {}
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._names)

    def add(self, value: str, name: str | None = None) -> None:
        """Remember ``value`` (and its URL- and JSON-escaped forms) as a secret.

        Values shorter than :data:`MIN_SECRET_LENGTH` are ignored.
        """
        if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH:
            return
        forms = {value, quote(value, safe=""), json.dumps(value)[1:-1]}
        with self._lock:
            for form in forms:
                if self._names.get(form) is None:
                    self._names[form] = name
            # Longest first, so a secret containing another is replaced whole.
            ordered = sorted(self._names, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, ordered)))

    def clear(self) -> None:
        """Forget every secret (tests)."""
        with self._lock:
            self._names.clear()
            self._pattern = None

    def _mask(self, match: re.Match[str]) -> str:
        name = self._names.get(match.group(0))
        return f"«redacted:{name}»" if name else "***"

    def redact(self, text: str) -> str:
        """``text`` with every known secret replaced."""
        pattern = self._pattern
        if pattern is None or not isinstance(text, str):
            return text
        return pattern.sub(self._mask, text)

    def redact_obj(self, obj: Any) -> Any:
        """A copy of ``obj`` with secrets replaced in every string, dict key and list item.

        Dicts, lists and tuples are rebuilt; other values (numbers, None) are returned as is.
        """
        if self._pattern is None:
            return obj
        return self._walk(obj, 0)

    def _walk(self, obj: Any, depth: int) -> Any:
        if isinstance(obj, str):
            return self.redact(obj)
        if depth > 100:  # a cycle or absurd nesting: hide it rather than recurse forever
            return "***"
        if isinstance(obj, dict):
            return {self._walk(k, depth + 1): self._walk(v, depth + 1) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self._walk(v, depth + 1) for v in obj]
        if isinstance(obj, tuple):
            return tuple(self._walk(v, depth + 1) for v in obj)
        return obj


#: The process-wide redactor every output path uses.
REDACTOR = Redactor()


def redact(text: str) -> str:
    """:meth:`Redactor.redact` on :data:`REDACTOR`."""
    return REDACTOR.redact(text)


def redact_obj(obj: Any) -> Any:
    """:meth:`Redactor.redact_obj` on :data:`REDACTOR`."""
    return REDACTOR.redact_obj(obj)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the message, its arguments and any traceback text.

    Attach it to *handlers* (``handler.addFilter(RedactingFilter())``): a filter on a logger
    does not see records propagated from its child loggers.
    """

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        r = self._redactor or REDACTOR
        if not len(r):
            return True
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # bad format args: keep both parts, redacted
            message = f"{record.msg} {record.args!r}"
        record.msg = r.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = r.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = r.redact(record.stack_info)
        return True
