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

from rich.cells import cell_len, chop_cells
from rich.text import Text

from console.core.causes import ago
from console.core.model import Severity
from console.core.postmortem import Row
from console.core.redact import REDACTOR, redact
from console.core.timeline import OUTCOME_UNKNOWN, epoch
from console.tui.cells import SEVERITY_STYLE

#: Each kind's colour: the fleet's severity colours, which follow the theme (AA contrast).
KIND_SEVERITY: dict[str, tuple[Severity | None, bool]] = {
    "finding.appeared": (Severity.PAGE, False), "alert.firing": (Severity.PAGE, False),
    "finding.cleared": (None, False), "alert.resolved": (None, False),
    "note": (Severity.INFO, False), "status.changed": (Severity.TICKET, True),
}  # fmt: skip


def kind_style(kind: str) -> str:
    """The style of an event kind under the current theme (``bold`` for an opening)."""
    if kind not in KIND_SEVERITY:
        return "bold" if kind == "incident.opened" else ""
    sev, bold = KIND_SEVERITY[kind]
    colour = SEVERITY_STYLE[sev].removeprefix("bold ")
    return f"bold {colour}" if bold else colour


#: At least this many columns: actor and function get columns of their own.
WIDE = 110
#: The longest event kind (``finding.appeared``); longer ones wrap.
KIND_W = 16
ACTOR_W = 10
FUNCTION_W = 24
#: Each DataTable cell is padded by one column either side; the vertical scrollbar takes 1.
PAD, SCROLLBAR = 2, 1
MIN_SUMMARY_W = 20


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


def wrap_lines(text: str, width: int) -> list[str]:
    """``text`` wrapped at spaces to ``width`` cells (a longer word folds; runs of spaces
    collapse). Greedy and plain: ~20× faster than ``Text.wrap``, which a long timeline
    would otherwise pay on every refresh."""
    out: list[str] = []
    for para in text.split("\n"):
        line, used = "", 0
        for word in para.split():
            n = cell_len(word)
            while n > width:  # a word wider than the column folds
                if line:
                    out.append(line)
                head = chop_cells(word, width)[0]
                out.append(head)
                word = word[len(head) :]
                line, used, n = "", 0, cell_len(word)
            if not word:
                continue
            if line and used + 1 + n <= width:
                line, used = f"{line} {word}", used + 1 + n
            else:
                if line:
                    out.append(line)
                line, used = word, n
        out.append(line)
    return out


def wrap(text: str, width: int, style: str = "") -> Text:
    """A :class:`Text` of ``text`` wrapped to ``width`` (see :func:`wrap_lines`)."""
    return Text("\n".join(wrap_lines(text, width)), style=style)


def cells(row: Row, cols: list[Column], time_text: str) -> tuple[list[Text], int]:
    """The row's cells for ``cols`` (redacted, wrapped) and the row's height in lines."""
    e = row.event
    width = {c.key: c.width for c in cols}
    out: list[Text] = []
    for c in cols:
        if c.key == "at":
            out.append(Text(time_text))
        elif c.key == "kind":
            out.append(wrap(e.kind, c.width, kind_style(e.kind)))
        elif c.key == "actor":
            out.append(wrap(redact(e.actor), c.width))
        elif c.key == "function":
            out.append(wrap(redact(e.function_id or ""), c.width))
        else:
            style = SEVERITY_STYLE[Severity.PAGE] if row.outcome == OUTCOME_UNKNOWN else ""
            summary = wrap(redact(row.summary), c.width, style)
            if "function" not in width:  # narrow: who and where go under what happened
                who = " · ".join(x for x in (e.actor, e.function_id) if x)
                summary.append("\n")
                summary.append_text(wrap(redact(who), c.width, "dim"))
            out.append(summary)
    return out, max(t.plain.count("\n") + 1 for t in out)


class CellCache:
    """Wrapped cells by event, for one set of columns: a refresh re-wraps only new events.

    Events never change; the cache empties when the columns change (a resize), a secret
    becomes known (the cells were redacted without it) or the theme's colours change. Only the time is made every time.
    """

    def __init__(self) -> None:
        self._key: tuple[tuple[Column, ...], int, tuple[str, ...]] | None = None
        self._cells: dict[str, tuple[list[Text], int]] = {}

    def cells(self, row: Row, cols: list[Column], time_text: str) -> tuple[list[Text], int]:
        """:func:`cells`, the wrapped ones reused."""
        key = (tuple(cols), len(REDACTOR), tuple(SEVERITY_STYLE.values()))
        if key != self._key:
            self._key, self._cells = key, {}
        hit = self._cells.get(row.event.id)
        if hit is None:
            hit = self._cells[row.event.id] = cells(row, cols, "")
        out, height = hit
        return [Text(time_text), *out[1:]], height
