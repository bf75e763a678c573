"""What the fleet table shows: columns, filter, sort, grouping and the row window.

Pure (Rich only): ``build_rows(snapshot, options)`` filters and sorts the whole fleet on
model values and windows it; a row's cells are formatted only when asked for
(:class:`FnRow`), which the table does for the rows it paints.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text

from console.core import fmt
from console.core.model import Severity
from console.core.onfire import Tally, key_number, team_order
from console.core.snapshot import FleetSnapshot, FunctionHealth
from console.tui import cells


def _burn_1h(h: FunctionHealth) -> float | None:
    return h.burn.rates.get("1h") if h.burn else None


def shown(x: float | None, digits: int = 3) -> float | None:
    """``x`` at about the precision the table shows it (``digits`` significant figures):
    sorting on it, rows whose shown value did not change keep their (id) order instead of
    swapping on noise below what anyone can read."""
    return None if x is None else float(f"{x:.{digits}g}")


def _health_key(h: FunctionHealth) -> Any:
    # Unhealthy first, fastest burn first (as shown, 0.1×); ties and healthy rows keep a
    # stable (id) order so they do not shuffle on every refresh.
    if not h.findings:
        return (3, 0.0)
    b = h.burn.rates.get("1h") if h.burn else None
    return (h.worst_severity_rank, -round(b or 0.0, 1))


def _success_key(h: FunctionHealth) -> float | None:
    s = h.signals.success_rate
    return None if s is None else round(s, 4)  # 99.95%: the 2 decimals shown


def _burn_key(h: FunctionHealth) -> float | None:
    b = _burn_1h(h)
    return None if b is None else round(b, 1)


def _modes_key(h: FunctionHealth) -> tuple[int, ...] | None:
    # By mode number (F1, F2, …, F10), not text (where F10 sorts before F2).
    return tuple(sorted(int(f.mode.value[1:]) for f in h.findings)) or None


@dataclass(frozen=True)
class Column:
    """One table column: its key, header, fixed width and how it sorts."""

    key: str
    label: str
    width: int
    sort: Callable[[FunctionHealth], Any]
    #: True when the natural order is biggest first (traffic, p99, burn).
    descending: bool = False
    right: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("health", "health", 6, _health_key),
    Column("id", "function", 34, lambda h: h.id),
    Column("owner", "owner", 12, lambda h: h.function.owner),
    Column("tier", "tier", 4, lambda h: h.function.tier, right=True),
    Column(
        "traffic", "traffic", 8, lambda h: shown(h.signals.rate_rps), descending=True, right=True
    ),
    Column("success", "success", 8, lambda h: _success_key(h), right=True),
    Column("p99", "p99", 7, lambda h: shown(h.signals.p99_ms), descending=True, right=True),
    Column("burn", "burn 1h", 7, lambda h: _burn_key(h), descending=True, right=True),
    Column(
        "trend",
        "errors",
        cells.SPARK_WIDTH,
        lambda h: h.trend[-1] if h.trend else None,
        descending=True,
    ),
    Column("modes", "modes", 21, lambda h: _modes_key(h)),
)
COLUMN_KEYS: tuple[str, ...] = tuple(c.key for c in COLUMNS)
BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}
ID_INDEX = COLUMN_KEYS.index("id")
#: Rows the table holds at most; the rest is reached by filtering (see README, Performance).
DEFAULT_WINDOW = 1000
#: Row keys of group-by-owner headers start with this (no function id does: ids are
#: ``service:operation`` from config or a backend, never a control character).
GROUP_PREFIX = "\x00group:"


def mid_clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` with ``…`` in the middle, keeping the operation:
    ``notif…:worker email-send``; an operation too long for that keeps its end."""
    if len(text) <= width:
        return text
    service, sep, op = text.partition(":")
    keep = width - len(op) - 2
    if sep and keep >= 1:
        return f"{service[:keep]}…:{op}"
    return "…" + text[-(width - 1) :] if width > 1 else "…"


def is_group(key: str | None) -> bool:
    """Whether row ``key`` is a group-by-owner header, not a function."""
    return key is not None and key.startswith(GROUP_PREFIX)


@dataclass(frozen=True)
class ViewOptions:
    """How the user asked to see the fleet."""

    filter: str = ""
    sort: str = "health"
    reverse: bool = False
    only_unhealthy: bool = False
    group_by_owner: bool = False
    window: int | None = DEFAULT_WINDOW


class FnRow:
    """A function's row, formatted on demand: a refresh hands the table 1,000 of these,
    and it formats the ~40 it paints (formatting all took 50–100 ms a refresh)."""

    __slots__ = ("grouped", "health")

    def __init__(self, health: FunctionHealth, *, grouped: bool = False) -> None:
        self.health, self.grouped = health, grouped

    def cells(self) -> tuple[Text, ...]:
        """The row's cells, in ``COLUMNS`` order."""
        return row_cells(self.health, group_head=False if self.grouped else None)

    def same_as(self, other: FnRow) -> bool:
        """Whether ``other`` formats to the same cells without formatting either: the same
        health object (each refresh makes new ones) shown the same way."""
        return self.health is other.health and self.grouped == other.grouped


#: A row as the table takes it: ready cells (group headers) or a function to format.
RowSource = tuple[Text, ...] | FnRow


@dataclass
class View:
    """The rows to show (already windowed) and the counts the status line needs."""

    entries: list[tuple[str, RowSource]]
    total: int
    matched: int
    unhealthy: int
    order: list[FunctionHealth] = field(default_factory=list)

    @property
    def rows(self) -> list[tuple[str, tuple[Text, ...]]]:
        """Every row formatted (tests and the bench; the table formats what it paints)."""
        return [(k, src if isinstance(src, tuple) else src.cells()) for k, src in self.entries]


def valid_regex(query: str) -> bool:
    """Whether ``query`` compiles as a regex (the status line says when it does not)."""
    try:
        re.compile(query.strip())
    except re.error:
        return False
    return True


#: A filter that is just a failure-mode code (``F1``, ``f10``).
_FCODE = re.compile(r"F\d{1,2}", re.IGNORECASE)


def matcher(query: str) -> Callable[[str], bool]:
    """Case-insensitive substring match, or regex search when ``query`` is a valid regex.

    The regex is the query as typed (``\\S`` stays ``\\S``), with ``re.MULTILINE`` so ``^``
    and ``$`` anchor each field of the haystack. An invalid regex matches as a substring.
    """
    q = query.strip()
    if not q:
        return lambda _s: True
    if _FCODE.fullmatch(q):
        # An F-code is a whole token: F1 is not F10 (and not inside a word).
        token = re.compile(rf"(?<![\w]){re.escape(q)}(?![\w])", re.IGNORECASE).search
        return lambda s: token(s) is not None
    low = q.lower()
    try:
        search = re.compile(q, re.IGNORECASE | re.MULTILINE).search
    except re.error:
        return lambda s: low in s.lower()
    return lambda s: low in s.lower() or search(s) is not None


def haystack(h: FunctionHealth) -> str:
    """What ``/`` searches, one field a line: id, service, owner, then each active failure
    mode's code and name on lines of their own (so ``^F1$`` matches the code)."""
    fn = h.function
    modes = "\n".join(f"{f.mode.value}\n{f.name}" for f in h.findings)
    return f"{fn.id}\n{fn.service}\n{fn.owner or ''}\n{modes}"


class _Haystacks:
    """The haystacks of the last fleet filtered. Every keystroke of a filter searches the
    same snapshot; building 10,000 haystacks per key cost as much as the search."""

    functions: tuple[FunctionHealth, ...] = ()
    hay: list[str] = []  # noqa: RUF012 (one cache, replaced whole)

    @classmethod
    def of(cls, functions: tuple[FunctionHealth, ...]) -> list[str]:
        if cls.functions is not functions:
            cls.hay = [haystack(h) for h in functions]
            cls.functions = functions
        return cls.hay


def prepare_filter(functions: tuple[FunctionHealth, ...]) -> None:
    """Build the haystacks ``/`` searches now (the filter box opened), not on the first key."""
    _Haystacks.of(functions)


def order(functions: tuple[FunctionHealth, ...], opts: ViewOptions) -> list[FunctionHealth]:
    """Filter and sort on model values; ``None`` always sorts last."""
    if opts.filter:
        match = matcher(opts.filter)
        hay = _Haystacks.of(functions)
        picked = [h for h, s in zip(functions, hay, strict=True) if match(s)]
    else:
        picked = list(functions)
    if opts.only_unhealthy:
        picked = [h for h in picked if h.findings]
    col = BY_KEY.get(opts.sort, COLUMNS[0])
    picked.sort(key=lambda h: h.id)
    keyed = [(col.sort(h), h) for h in picked]
    known = [p for p in keyed if p[0] is not None]
    known.sort(key=lambda p: p[0], reverse=col.descending != opts.reverse)
    result = [h for _k, h in known] + [h for k, h in keyed if k is None]
    if opts.group_by_owner:
        # Teams by severity (the team burning 28× first), each keeping the chosen order.
        place = team_order(result)
        result.sort(key=lambda h: place[h.function.owner])
    return result


def modes_cell(h: FunctionHealth, width: int) -> Text:
    """The failure-mode badges; a page row leads with why it pages (``F8 14.2% 400/422``):
    serialization errors, say, do not count against the SLO, so its numbers look healthy."""
    page = next((f for f in h.findings if f.severity is Severity.PAGE), None)
    if page is None:
        return cells.badges(h.findings, width)
    out = Text(cells.clip(key_number(page), width), style=cells.SEVERITY_STYLE[Severity.PAGE])
    rest = [f for f in h.findings if f is not page]
    if rest and len(out) + 1 < width:
        out.append(" ")
        out.append_text(cells.badges(rest, width - len(out)))
    return out


def row_cells(h: FunctionHealth, *, group_head: bool | None = None) -> tuple[Text, ...]:
    """One row's cells, in ``COLUMNS`` order."""
    fn, s = h.function, h.signals
    sev = cells.worst(h)
    burn = _burn_1h(h)
    burn_style = ""
    if h.burn is not None and h.burn.page:
        burn_style = cells.SEVERITY_STYLE[cells.Severity.PAGE]
    elif h.burn is not None and h.burn.ticket:
        burn_style = cells.SEVERITY_STYLE[cells.Severity.TICKET]
    owner = fn.owner or fmt.NO_DATA
    if group_head is None:
        owner_cell = Text(cells.clip(owner, 12), style="" if fn.owner else "dim")
    else:
        owner_cell = Text("  ·", style="dim")  # the group's header names the team
    budget = 1.0 - fn.slo.objective
    return (
        cells.severity_cell(h),
        Text(cells.clip(fn.id, 34), style="bold" if sev is not None else ""),
        owner_cell,
        cells.number(str(fn.tier) if fn.tier is not None else fmt.NO_DATA),
        cells.number(fmt.rps(s.rate_rps)),
        cells.number(fmt.pct(s.success_rate), "" if sev is None else cells.SEVERITY_STYLE[sev]),
        cells.number(fmt.latency(s.p99_ms, "p99_ms" in s.latency_capped)),
        cells.number(fmt.burn(burn), burn_style),
        cells.sparkline(h.trend, floor=budget * 2, style=cells.SEVERITY_STYLE[sev]),
        modes_cell(h, BY_KEY["modes"].width),
    )


def group_cells(team: str | None, members: list[FunctionHealth]) -> tuple[Text, ...]:
    """A group-by-owner header: the team, its pages and tickets, its fastest burn."""
    tally = Tally()
    for h in members:
        tally.add(h)
    sev = Severity.PAGE if tally.pages else Severity.TICKET if tally.tickets else None
    style = cells.SEVERITY_STYLE[sev]
    counts = [f"{n} {word}" for n, word in ((tally.pages, "page"), (tally.tickets, "tckt")) if n]
    burn = tally.fastest[0] if tally.fastest and sev is not None else None
    empty = Text("")
    out = [empty] * len(COLUMNS)
    out[0] = Text("──────", style="dim")
    out[ID_INDEX] = Text(cells.clip(f"▾ {team or 'no owner'}", 34), style="bold")
    out[COLUMN_KEYS.index("owner")] = Text(f"{len(members)} fn", style="dim")
    out[COLUMN_KEYS.index("burn")] = cells.number(fmt.burn(burn) if burn else "", style)
    out[COLUMN_KEYS.index("modes")] = Text(" · ".join(counts) or "ok", style=style)
    return tuple(Text(c.plain, style=c.style, justify=c.justify) for c in out)


def build_rows(snapshot: FleetSnapshot, opts: ViewOptions) -> View:
    """The view of ``snapshot`` under ``opts``: ordered, windowed rows (with a header row
    per team when grouping by owner); function rows are formatted when painted."""
    ordered = order(snapshot.functions, opts)
    shown = ordered if opts.window is None else ordered[: opts.window]
    rows: list[tuple[str, RowSource]] = []
    if opts.group_by_owner:
        teams: dict[str | None, list[FunctionHealth]] = {}
        for h in shown:
            teams.setdefault(h.function.owner, []).append(h)
        for team, members in teams.items():
            rows.append((f"{GROUP_PREFIX}{team or ''}", group_cells(team, members)))
            rows.extend((h.id, FnRow(h, grouped=True)) for h in members)
    else:
        rows = [(h.id, FnRow(h)) for h in shown]
    unhealthy = sum(1 for h in snapshot.functions if h.findings)
    return View(rows, len(snapshot.functions), len(ordered), unhealthy, shown)
