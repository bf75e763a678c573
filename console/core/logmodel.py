"""Log records and log queries: what every log source (the embedded store, Loki) answers.

Pure data, no I/O. A record's severity is normalised to the six OpenTelemetry levels
(``TRACE`` … ``FATAL``) from its ``SeverityNumber`` (1-24) or, when the sender left the
number unset, from its severity text (``warning`` → ``WARN``, ``critical`` → ``FATAL``);
one that says neither is ``None`` — unknown, never guessed as INFO.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The normalised levels, lowest first; ``SEVERITY_NUMBER`` n is level ``LEVELS[(n-1)//4]``.
LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
#: The lowest ``SeverityNumber`` of each level (the OTLP enum: TRACE=1 … FATAL=21).
LEVEL_NUMBER = {name: 1 + 4 * i for i, name in enumerate(LEVELS)}
#: Levels an ``errors`` query keeps.
ERROR_LEVELS = frozenset({"ERROR", "FATAL"})

_TEXT_LEVEL = {
    "trace": "TRACE",
    "debug": "DEBUG",
    "dbg": "DEBUG",
    "info": "INFO",
    "information": "INFO",
    "informational": "INFO",
    "notice": "INFO",
    "warn": "WARN",
    "warning": "WARN",
    "error": "ERROR",
    "err": "ERROR",
    "fatal": "FATAL",
    "critical": "FATAL",
    "crit": "FATAL",
    "alert": "FATAL",
    "emergency": "FATAL",
    "emerg": "FATAL",
    "panic": "FATAL",
    "severe": "ERROR",
}


def severity_level(number: int | None, text: str = "") -> str | None:
    """The normalised level of a ``SeverityNumber`` (1-24), else of its text, else None."""
    if number is not None and 1 <= number <= 24:
        return LEVELS[(number - 1) // 4]
    word = text.strip().lower()
    if not word:
        return None
    level = _TEXT_LEVEL.get(word)
    if level is None and word[-1:].isdigit():  # "INFO2", "error3": the OTLP short names
        level = _TEXT_LEVEL.get(word.rstrip("0123456789"))
    return level


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One log line, from whichever source."""

    time_ns: int
    """When it happened (``time_unix_nano``; the observed time when the sender left it 0)."""
    body: str
    """The message; a structured body (kvlist, array) rendered as bounded JSON-like text."""
    service: str = ""
    """``service.name`` of the resource that sent it (Loki: the mapped label)."""
    severity: str | None = None
    """``TRACE`` ``DEBUG`` ``INFO`` ``WARN`` ``ERROR`` ``FATAL``; None when unknown."""
    severity_number: int | None = None
    """The sender's ``SeverityNumber`` (1-24); None when it sent none."""
    severity_text: str = ""
    """The sender's own severity text (``warning``, ``E``), as sent."""
    trace_id: str | None = None
    """32 lowercase hex digits, or None."""
    span_id: str | None = None
    """16 lowercase hex digits, or None."""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    """The record's attributes (Loki: its structured metadata and extra labels)."""
    scope: str = ""
    """The instrumentation scope (logger) name."""
    observed_ns: int | None = None
    """When a collector first saw it; None when not sent."""
    flags: int = 0
    """``LogRecord.flags`` (the W3C trace flags in the low byte)."""
    event_name: str = ""
    """``LogRecord.event_name``, for records that are events."""
    source: str = ""
    """The backend it came from (``otlp``, a Loki backend's name)."""

    @property
    def is_error(self) -> bool:
        """Whether its level is ERROR or FATAL."""
        return self.severity in ERROR_LEVELS

    def key(self) -> tuple[int, str, str, str]:
        """What tells two records apart when a follow query returns one again."""
        return (self.time_ns, self.span_id or "", self.service, self.body)


@dataclass(frozen=True, slots=True)
class LogQuery:
    """What to look for. At least a service or a trace id should be given; a source may
    answer ``[]`` to a query it cannot express (Loki without a service label)."""

    service: str | None = None
    """Records of this ``service.name``."""
    trace_id: str | None = None
    """Records of this trace (32 hex digits)."""
    span_id: str | None = None
    """Records of this span (16 hex digits); with ``trace_id`` or alone."""
    since_ns: int | None = None
    """At or after this time (Unix ns)."""
    until_ns: int | None = None
    """At or before this time (Unix ns)."""
    errors_only: bool = False
    """Only ERROR and FATAL."""
    limit: int = 100
    """At most this many, the newest."""


def first_line(body: str) -> str:
    """A body on one line: its first line, and how many more there are."""
    head, sep, rest = body.partition("\n")
    if not sep:
        return body
    more = rest.count("\n") + 1
    return f"{head} (+{more} line{'s' if more > 1 else ''})"
