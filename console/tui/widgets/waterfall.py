"""A trace waterfall on the Line API: one line per span, bars on a shared time axis.

Only the visible lines are built (``render_line``), so a 10,000-span trace paints as fast as
a 10-span one. The span tree is flattened once, iteratively; collapsing a subtree rebuilds
the visible list from that order in one pass. Line 0 is the time axis and never scrolls.
"""

from __future__ import annotations

import math
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.core import fmt
from console.core import traces as core_traces
from console.core.model import Span, Trace

MARK_W = 2  # "▶ " on the first error span
DUR_W = 10
GAP = 2
#: The duration formatter, re-exported for the screens.
span_duration = fmt.duration_ns

EIGHTHS = " ▏▎▍▌▋▊▉█"


def axis_ticks(total_ns: int, width: int) -> list[tuple[int, str]]:
    """(column, label) of round ticks over ``width`` cells spanning ``total_ns``."""
    if width <= 0:
        return []
    unit, scale = ("µs", 1e3) if total_ns < 1e6 else ("ms", 1e6) if total_ns < 1e10 else ("s", 1e9)
    span = max(total_ns / scale, 1e-9)
    raw = span / max(1, width // 10)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    out: list[tuple[int, str]] = []
    for k in range(int(span / step) + 1):
        value = k * step
        col = int(value / span * width)
        if col < width:
            out.append((col, f"{value:g}{unit}" if value else "0"))
    return out


def bar_cells(start: float, end: float, width: int) -> tuple[int, str]:
    """(first column, glyphs) of a bar from ``start`` to ``end`` (fractions of the axis).

    The bar starts in the cell holding ``start`` and is as long as the span, to an eighth of
    a cell (terminals have no right-aligned eighths, so the start is exact to a cell only).
    """
    x0 = min(max(start, 0.0), 1.0) * width
    length = max((min(max(end, start), 1.0) * width) - x0, 1 / 8)
    col = min(int(x0), width - 1)
    full = int(length)
    eighths = round((length - full) * 8)
    if eighths == 8:
        full, eighths = full + 1, 0
    glyphs = "█" * full + (EIGHTHS[eighths] if eighths else "")
    return col, glyphs[: width - col]


class Waterfall(ScrollView, can_focus=True):
    """The spans of one trace. Post :class:`Waterfall.Highlighted` when the cursor moves."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "edge(0)", "First", show=False),
        Binding("end", "edge(1)", "Last", show=False),
        Binding("enter,space", "toggle_subtree", "Collapse/expand"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "waterfall--axis",
        "waterfall--bar",
        "waterfall--error",
        "waterfall--error-bar",
        "waterfall--first-error",
        "waterfall--service",
        "waterfall--duration",
        "waterfall--collapsed",
        "waterfall--cursor",
    }
    DEFAULT_CSS = """
    Waterfall { overflow-x: hidden; scrollbar-gutter: stable; scrollbar-size-vertical: 1; }
    Waterfall > .waterfall--axis { color: $text-muted; text-style: bold; }
    Waterfall > .waterfall--bar { color: $primary; }
    Waterfall > .waterfall--error { color: $text-error; }
    Waterfall > .waterfall--error-bar { color: $error; }
    Waterfall > .waterfall--first-error { color: $text-error; text-style: bold; }
    Waterfall > .waterfall--service { color: $text-muted; }
    Waterfall > .waterfall--duration { color: $text; }
    Waterfall > .waterfall--collapsed { color: $text-accent; }
    Waterfall > .waterfall--cursor { background: $boost; }
    Waterfall:focus > .waterfall--cursor { background: $primary 25%; }
    """

    cursor: reactive[int] = reactive(0, always_update=True)

    class Highlighted(Message):
        """The cursor is on ``span`` (None for an empty trace)."""

        def __init__(self, waterfall: Waterfall, span: Span | None) -> None:
            super().__init__()
            self.waterfall = waterfall
            self.span = span

    def __init__(self, trace: Trace | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.collapsed: set[str] = set()
        self._wf_styles: dict[str, Style] = {}
        self.set_trace(trace)

    # -- data --------------------------------------------------------------------------

    def set_trace(self, trace: Trace | None) -> None:
        """Show ``trace`` (everything expanded, the cursor on the root)."""
        self.trace = trace
        spans = trace.spans if trace else ()
        order = core_traces.flatten(spans)
        self._order = order
        # Subtree ends and parents by position, in one pass over the depth-first order.
        n = len(order)
        self._subtree_end = list(range(1, n + 1))
        self._parent_pos: list[int] = [-1] * n
        stack: list[int] = []
        for i, (_s, depth) in enumerate(order):
            while stack and order[stack[-1]][1] >= depth:
                self._subtree_end[stack.pop()] = i
            self._parent_pos[i] = stack[-1] if stack else -1
            stack.append(i)
        for j in stack:
            self._subtree_end[j] = n
        self._pos = {s.span_id: i for i, (s, _d) in enumerate(order)}
        self.t0 = min((s.start_ns for s in spans), default=0)
        t1 = max((s.start_ns + s.duration_ns for s in spans), default=0)
        self.total = max(t1 - self.t0, 1)
        first = trace.first_error_span_id if trace else None
        if trace and first is None and any(s.status == "error" for s in spans):
            found = core_traces.first_error_span(spans)  # a source that did not finalize
            first = found.span_id if found else None
        self.first_error_id = first
        self._service_w = min(18, max((len(s.service) for s in spans), default=7) + 2)
        self.collapsed = set()
        self._rebuild(0)

    def _rebuild(self, cursor_pos: int) -> None:
        """Recompute the visible rows (skipping collapsed subtrees) and keep the cursor."""
        rows: list[int] = []
        i, n = 0, len(self._order)
        while i < n:
            rows.append(i)
            i = self._subtree_end[i] if self._order[i][0].span_id in self.collapsed else i + 1
        self._shown = rows
        self._row_of = {p: r for r, p in enumerate(rows)}
        cursor = self._row_of.get(cursor_pos, 0)
        # Lines are as wide as the widget (no horizontal scroll); one more for the axis.
        self.virtual_size = Size(0, len(rows) + 1)
        if not self.is_mounted:  # from __init__: no watchers yet
            self.set_reactive(Waterfall.cursor, cursor)
            return
        self.cursor = cursor
        self.refresh()

    @property
    def shown(self) -> list[tuple[Span, int]]:
        """The (span, depth) rows shown, top to bottom."""
        return [self._order[p] for p in self._shown]

    @property
    def selected(self) -> Span | None:
        """The span under the cursor."""
        return self._order[self._shown[self.cursor]][0] if self._shown else None

    def descendants(self, span_id: str) -> int:
        """How many spans are below ``span_id``."""
        p = self._pos[span_id]
        return self._subtree_end[p] - p - 1

    def toggle(self, span_id: str | None = None) -> None:
        """Collapse or expand a subtree (the selected span's by default)."""
        span = self.selected if span_id is None else self._order[self._pos[span_id]][0]
        if span is None or not self.descendants(span.span_id):
            return
        self.collapsed ^= {span.span_id}
        self._rebuild(self._pos[span.span_id])

    def select(self, span_id: str) -> bool:
        """Move the cursor to ``span_id``, expanding its collapsed ancestors."""
        p = self._pos.get(span_id)
        if p is None:
            return False
        q, opened = self._parent_pos[p], False
        while q >= 0:
            if self._order[q][0].span_id in self.collapsed:
                self.collapsed.discard(self._order[q][0].span_id)
                opened = True
            q = self._parent_pos[q]
        if opened:
            self._rebuild(p)
        else:
            self.cursor = self._row_of[p]
        return True

    # -- cursor ------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        n = len(self._shown)
        if n and not 0 <= new < n:
            self.cursor = min(max(new, 0), n - 1)
            return
        page = max(1, self.scrollable_content_region.height - 1)
        if new < self.scroll_y:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= self.scroll_y + page:
            self.scroll_to(y=new - page + 1, animate=False, immediate=True)
        self.refresh()
        self.post_message(self.Highlighted(self, self.selected))

    def action_move(self, delta: int) -> None:
        self.cursor = self.cursor + delta

    def action_page(self, direction: int) -> None:
        self.cursor = self.cursor + direction * max(1, self.scrollable_content_region.height - 2)

    def action_edge(self, end: int) -> None:
        self.cursor = len(self._shown) - 1 if end else 0

    def action_toggle_subtree(self) -> None:
        self.toggle()

    def on_click(self, event: Click) -> None:
        row = event.y - 1 + int(self.scroll_y)
        if event.y >= 1 and 0 <= row < len(self._shown):
            self.cursor = row

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._wf_styles.clear()
        self.refresh()

    # -- drawing -----------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        """A component's colour and text style, without a background: every line sits on the
        widget's own (``rich_style``); only the cursor brings one."""
        style = self._wf_styles.get(name)
        if style is None:
            full = self.get_component_rich_style(f"waterfall--{name}")
            if name == "cursor":
                style = Style(bgcolor=full.bgcolor)
            else:
                style = Style(color=full.color, bold=full.bold, italic=full.italic)
            self._wf_styles[name] = style
        return style

    def columns(self, width: int) -> tuple[int, int, int]:
        """(name, service, bar) widths for a line ``width`` cells wide."""
        name = max(20, min(56, int(width * 0.32)))
        bar = max(8, width - MARK_W - name - self._service_w - DUR_W - GAP)
        return name, self._service_w, bar

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._axis(width)
        row = y - 1 + int(self.scroll_y)
        if row >= len(self._shown):
            return Strip.blank(width, self.rich_style)
        return self._span_line(row, width)

    def _axis(self, width: int) -> Strip:
        name_w, svc_w, bar_w = self.columns(width)
        style = self._style("axis")
        line = [" "] * bar_w
        last = -1
        for col, label in axis_ticks(self.total, bar_w):
            if col <= last or col + len(label) > bar_w:
                continue  # a label is drawn at its tick or not at all
            line[col : col + len(label)] = label
            last = col + len(label)
        head = " " * MARK_W + "span".ljust(name_w) + "service".ljust(svc_w)
        text = head + "duration".rjust(DUR_W - 1) + " " * (GAP + 1) + "".join(line)
        return Strip([Segment(text[:width].ljust(width), self.rich_style + style)], width)

    def _span_line(self, row: int, width: int) -> Strip:
        pos = self._shown[row]
        span, depth = self._order[pos]
        name_w, svc_w, bar_w = self.columns(width)
        error = span.status == "error"
        first = span.span_id == self.first_error_id
        name_style = self._style("first-error" if first else "error") if error else Style()
        mark = "▶ " if first else "✗ " if error else "  "
        segs = [Segment(mark, self._style("first-error" if first else "error"))]
        indent = "  " * min(depth, name_w // 4)
        if depth > name_w // 4:  # very deep: show the depth instead of more indent
            indent = indent[: -len(str(depth)) - 1] + f"{depth} "
        kids = self._subtree_end[pos] - pos - 1
        shut = span.span_id in self.collapsed
        more = f" +{kids}" if shut else ""
        room = max(2, name_w - len(indent) - 2 - len(more) - 1)
        label = span.name or "(unnamed)"
        if cell_len(label) > room:
            label = set_cell_size(label, room - 1) + "…"
        segs.append(
            Segment(indent + ("▸ " if shut else "▾ " if kids else "  "), self._style("service"))
        )
        segs.append(Segment(label, name_style))
        segs.append(Segment(more, self._style("collapsed")))
        segs.append(Segment(" " * (name_w - len(indent) - 2 - cell_len(label) - len(more))))
        service = span.service if len(span.service) < svc_w else span.service[: svc_w - 2] + "…"
        segs.append(Segment(service.ljust(svc_w), self._style("service")))
        dur = span_duration(span.duration_ns)
        segs.append(Segment(dur.rjust(DUR_W - 1) + " " * (GAP + 1), self._style("duration")))
        start = (span.start_ns - self.t0) / self.total
        col, bar = bar_cells(start, start + span.duration_ns / self.total, bar_w)
        bar_style = self._style("error-bar" if error else "bar")
        segs += [
            Segment(" " * col),
            Segment(bar, bar_style),
            Segment(" " * (bar_w - col - len(bar))),
        ]
        strip = Strip(segs).crop_extend(0, width, None)
        if row == self.cursor:
            strip = strip.apply_style(self._style("cursor"))
        return strip.apply_style(self.rich_style)  # the widget's own colours underneath
