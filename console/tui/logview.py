"""What the logs screen shows, as plain functions: what to ask for, the level colours for
a theme, the filter, and the cells of a record. No Textual here, no I/O.

A target says what ``l`` was pressed on. A span or trace asks by id; when no record
carries the id (the service logs without trace context), the screen falls back to the
service's records around the span's or trace's time. A function asks for its service's
records of the last :data:`FUNCTION_WINDOW_S`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from rich.text import Text
from textual.color import Color

from console.core.logmodel import LogQuery, LogRecord, first_line
from console.tui.theme_colours import AA, contrast, readable

#: A function's records: the last 15 minutes.
FUNCTION_WINDOW_S = 15 * 60
#: A span's or trace's fallback window: its own time, widened by this on each side.
AROUND_NS = 60 * 10**9
#: Records shown at most (the newest).
LIMIT = 500


@dataclass(frozen=True)
class LogTarget:
    """What ``l`` was pressed on: a title, the query, and the fallback when it finds none."""

    title: str
    query: LogQuery
    fallback: LogQuery | None = None
    function_id: str | None = None


def for_function(function_id: str, service: str, now_ns: int) -> LogTarget:
    """A function's service, the last 15 minutes."""
    q = LogQuery(service=service, since_ns=now_ns - FUNCTION_WINDOW_S * 10**9, limit=LIMIT)
    return LogTarget(f"Logs of {function_id}", q, None, function_id)


def for_trace(
    trace_id: str,
    service: str | None,
    start_ns: int,
    end_ns: int,
    *,
    span_id: str | None = None,
    function_id: str | None = None,
) -> LogTarget:
    """A trace's (or one span's) records by id; else ``service`` around its time."""
    q = LogQuery(trace_id=trace_id, span_id=span_id, limit=LIMIT)
    fallback = None
    if service:
        fallback = LogQuery(
            service=service,
            since_ns=start_ns - AROUND_NS,
            until_ns=end_ns + AROUND_NS,
            limit=LIMIT,
        )
    what = f"span {span_id} of trace {trace_id}" if span_id else f"trace {trace_id}"
    return LogTarget(f"Logs of {what}", q, fallback, function_id)


def following(query: LogQuery, newest_ns: int | None, slack_ns: int) -> LogQuery:
    """The query of one follow poll: records from a little before the newest one shown
    (a record stamped earlier may arrive later; seen ones are dropped by key), no end."""
    since = query.since_ns if newest_ns is None else newest_ns - slack_ns
    return replace(query, since_ns=since, until_ns=None)


def level_styles(variables: Mapping[str, str]) -> dict[str, str]:
    """Each level's style from the theme's CSS variables, readable (WCAG AA) on its
    background and surface: FATAL and ERROR the error colour, WARN the warning colour,
    DEBUG and TRACE muted, INFO the plain text."""
    bg = Color.parse(variables["background"])
    surface = Color.parse(variables["surface"])
    surface = bg.blend(surface, surface.a) if surface.a < 1 else surface

    def pick(name: str) -> str:
        c = Color.parse(variables[name])
        if c.a < 1:
            c = bg.blend(c, c.a)
        if all(contrast(c, b) >= AA for b in (bg, surface)):
            return c.hex
        return readable(c, bg, surface).hex

    error, warning = pick("error"), pick("warning")
    muted = pick("foreground-muted") if "foreground-muted" in variables else "dim"
    return {
        "FATAL": f"bold reverse {error}",
        "ERROR": f"bold {error}",
        "WARN": warning,
        "INFO": "",
        "DEBUG": muted,
        "TRACE": muted,
    }


def matches(r: LogRecord, needle: str) -> bool:
    """Whether the record holds ``needle`` (case-insensitive) in its level, service,
    message or an attribute value."""
    if not needle:
        return True
    n = needle.casefold()
    hay = (r.severity or "", r.severity_text, r.service, r.body)
    if any(n in h.casefold() for h in hay):
        return True
    return any(n in str(v).casefold() for v in r.attributes.values())


def clock(ns: int) -> str:
    """Unix ns → ``21:04:05.123`` (UTC)."""
    secs, rem = divmod(ns, 10**9)
    return datetime.fromtimestamp(secs, UTC).strftime("%H:%M:%S") + f".{rem // 10**6:03d}"


def cells(r: LogRecord, styles: Mapping[str, str]) -> list[Text]:
    """time, level, service, message — plain Text (never markup: a body may hold ``[b]``)."""
    style = styles.get(r.severity or "", "")
    return [
        Text(clock(r.time_ns), style="dim"),
        Text(r.severity or "—", style=style or ("dim" if not r.severity else "")),
        Text(r.service, overflow="ellipsis", no_wrap=True),
        Text(first_line(r.body), style=style if r.is_error else "", overflow="ellipsis"),
    ]


def detail(r: LogRecord) -> Text:
    """The whole record: its full message (every line), ids and attributes."""
    out = Text()
    out.append(f"{clock(r.time_ns)}  {r.severity or '—'}", style="bold")
    if r.severity_text and r.severity_text != r.severity:
        out.append(f" ({r.severity_text})", style="dim")
    out.append(f"  {r.service}", style="bold")
    if r.scope:
        out.append(f"  {r.scope}", style="dim")
    out.append(f"  from {r.source}\n", style="dim")
    out.append(r.body + "\n")
    if r.trace_id:
        out.append(f"trace {r.trace_id}", style="dim")
        out.append(f"  span {r.span_id or '—'}\n", style="dim")
    for k, v in r.attributes.items():
        text = str(v)
        out.append(f"{k}: ", style="bold")
        out.append((text if len(text) <= 2000 else text[:1999] + "…") + "\n")
    return out
