"""The timeline table's columns and cells, fitted to the terminal: pure, no widgets.

Every column fits the width the table has, and text wraps at word boundaries (a row is as
tall as its longest cell) instead of being cut. Below :data:`WIDE` columns the actor and
function move under the summary, so "what happened" keeps a readable width at 80×24.
Times are short: relative to now (``12 min ago``) or, on demand, the UTC clock
(``20:48:00``); the event detail has the full time to the millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from rich.console import Console
from rich.text import Text

from console.core.causes import ago
from console.core.postmortem import Row
from console.core.redact import redact
from console.core.timeline import epoch

KIND_STYLE = {"finding.appeared": "#ff6b6b", "finding.cleared": "#6a9955",
              "alert.firing": "#ff6b6b", "alert.resolved": "#6a9955", "note": "#7fb4ca",
              "status.changed": "bold #e5c07b", "incident.opened": "bold"}  # fmt: skip
#: At least this many columns: actor and function get columns of their own.
WIDE = 110
#: The longest event kind (``finding.appeared``); longer ones wrap.
KIND_W = 16
ACTOR_W = 10
FUNCTION_W = 24
#: Each DataTable cell is padded by one column either side; the vertical scrollbar takes 1.
PAD, SCROLLBAR = 2, 1
MIN_SUMMARY_W = 20
#: Only measures text (wrapping); nothing is printed.
_CONSOLE = Console(width=400, color_system=None, legacy_windows=False)


@dataclass(frozen=True, slots=True)
class Column:
    """One table column: its key, header and width in cells."""

    key: str
    label: str
    width: int


def when(at: str, now: float | None, *, absolute: bool) -> str:
    """``12 min ago`` (relative to ``now``) or ``20:48:00`` (UTC) of an ISO event time."""
    t = epoch(at)
    if t is None:
        return at[:19]
    if absolute or now is None:
        return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S")
    return "just now" if now - t < 1 else f"{ago(now - t)} ago"


def columns(width: int, time_w: int) -> list[Column]:
    """The columns for a table ``width`` cells wide, the summary taking what is left."""
    time_label = "time (UTC)" if time_w <= 8 else "when"
    fixed = [Column("at", time_label, max(time_w, len(time_label))), Column("kind", "kind", KIND_W)]
    if width >= WIDE:
        fixed += [Column("actor", "actor", ACTOR_W), Column("function", "function", FUNCTION_W)]
    used = sum(c.width + PAD for c in fixed) + PAD + SCROLLBAR
    return [*fixed, Column("summary", "what happened", max(MIN_SUMMARY_W, width - used))]


def wrap(text: Text, width: int) -> Text:
    """``text`` wrapped at word boundaries to ``width`` (a word longer than that folds)."""
    lines = text.wrap(_CONSOLE, width, overflow="fold")
    return Text("\n").join(lines)


def cells(row: Row, cols: list[Column], time_text: str) -> tuple[list[Text], int]:
    """The row's cells for ``cols`` (redacted, wrapped) and the row's height in lines."""
    e = row.event
    width = {c.key: c.width for c in cols}
    summary = Text(
        redact(row.summary), style="bold #ff6b6b" if row.outcome == "outcome unknown" else ""
    )
    if "function" not in width:  # narrow: who and where go under what happened
        who = " · ".join(x for x in (e.actor, e.function_id) if x)
        summary.append("\n")
        summary.append(redact(who), style="dim")
    raw = {
        "at": Text(time_text),
        "kind": Text(e.kind, style=KIND_STYLE.get(e.kind, "")),
        "actor": Text(redact(e.actor)),
        "function": Text(redact(e.function_id or "")),
        "summary": summary,
    }
    out = [wrap(raw[c.key], c.width) for c in cols]
    return out, max(len(t.plain.split("\n")) for t in out)
