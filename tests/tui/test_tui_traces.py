"""Pilot tests: from a failing function to the span where it broke, and what the waterfall shows."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Static

from console.core import traces as core_traces
from console.core.model import Span, Trace, TraceQuery, TraceSummary
from console.engine.fleet.refresh import Backend
from console.errors import BackendUnavailable
from console.tui.app import CallboardApp
from console.tui.screens.function import FunctionScreen
from console.tui.screens.traces import TracesScreen
from console.tui.screens.waterfall import WaterfallScreen
from console.tui.widgets.waterfall import Waterfall, axis_ticks, bar_cells, span_duration
from tests.tui_helpers import demo_fleet

SIZE = (140, 45)
FAILING = "checkout:POST /pay"


class FailingTraces:
    """A trace source that is down, like an unreachable Tempo."""

    async def find_traces(self, query: TraceQuery) -> list[TraceSummary]:
        raise BackendUnavailable("connection refused (tempo.internal:3200)")

    async def trace(self, trace_id: str) -> Trace | None:
        raise BackendUnavailable("connection refused (tempo.internal:3200)")

    async def aclose(self) -> None:
        return None


def text_of(app: App[None], selector: str) -> str:
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(
        app.screen.query_one(selector, Static).content
    )
    return out.getvalue()


def lines(wf: Waterfall) -> list[str]:
    return [wf.render_line(y).text for y in range(wf.scrollable_content_region.height)]


async def settle(app: App[None], pilot: Pilot[None]) -> None:
    """Wait for the current screen's workers and their messages."""
    await pilot.pause()
    await app.screen.workers.wait_for_complete()
    await pilot.pause()


async def open_traces(app: CallboardApp, pilot: Pilot[None]) -> TracesScreen:
    assert app._refresh is not None
    await app._refresh.wait()
    await pilot.pause()
    app.open_function(FAILING)
    await pilot.pause()
    assert isinstance(app.screen, FunctionScreen)
    await pilot.press("t")
    await settle(app, pilot)
    assert isinstance(app.screen, TracesScreen)
    return app.screen


async def open_waterfall(app: CallboardApp, pilot: Pilot[None]) -> Waterfall:
    await open_traces(app, pilot)
    await pilot.press("enter")
    await settle(app, pilot)
    assert isinstance(app.screen, WaterfallScreen)
    return app.screen.query_one(Waterfall)


async def test_t_lists_the_functions_traces_errors_first() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_traces(app, pilot)
        found = screen.traces
        assert found and screen.table.row_count == len(found)
        errored = [bool(t.error_count) for t in found]
        assert errored[0] and errored == sorted(errored, reverse=True)  # errors first
        assert all(t.root_service == "checkout" for t in found)
        first = screen.table.get_row_at(0)
        assert first[-1].plain == found[0].trace_id and first[4].plain == str(found[0].error_count)
        info = text_of(app, "#traces-info")
        assert f"{len(found)} traces, {sum(errored)} with errors" in info
        await pilot.press("e")  # errors only
        await settle(app, pilot)
        assert screen.traces and all(t.error_count for t in screen.traces)
        assert "errors only" in text_of(app, "#traces-title")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FunctionScreen)


async def test_enter_opens_the_waterfall_on_where_it_broke_and_f_jumps_back() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        wf = await open_waterfall(app, pilot)
        trace = wf.trace
        assert trace is not None and len(wf.shown) == len(trace.spans)
        expected = core_traces.first_error_span(trace.spans)
        assert expected is not None and expected.status_message
        # Issue 13: it opens on the first error span, its detail shown (no f needed)
        assert wf.selected is not None and wf.selected.span_id == expected.span_id
        assert expected.status_message in text_of(app, "#wf-detail")
        shown = lines(wf)
        assert "duration" in shown[0] and "ms" in shown[0]  # the time axis
        assert shown[1].split()[-1].startswith("█")  # the root spans the whole axis
        await pilot.press("home")
        assert wf.selected is not None and wf.selected.parent_id is None  # the root
        assert expected.status_message not in text_of(app, "#wf-detail")
        await pilot.press("f")
        span = wf.selected
        assert span is not None and span.span_id == expected.span_id
        assert span.status == "error" and span.status_message
        assert lines(wf)[wf.cursor + 1].startswith("▶ ")  # marked on its line
        detail = text_of(app, "#wf-detail")
        assert "first error" in detail and span.status_message in detail
        assert all(str(k) in detail for k in span.attributes)
        title = text_of(app, "#wf-title")
        assert trace.trace_id in title and span.status_message in title
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, TracesScreen)


async def test_collapse_hides_a_subtree_and_f_reopens_it() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        wf = await open_waterfall(app, pilot)
        total = len(wf.shown)
        await pilot.press("home", "enter")  # on the root: everything below folds away
        assert len(wf.shown) == 1
        assert f"▸ POST /pay +{total - 1}" in lines(wf)[1]
        await pilot.press("space")
        assert len(wf.shown) == total
        await pilot.press("down", "enter")  # a client call with its server span below
        assert len(wf.shown) == total - 1
        await pilot.press("home", "enter", "f")  # the first error is inside the root's fold
        assert len(wf.shown) == total - 1  # the root opened; the other fold stays
        assert wf.selected is not None and wf.selected.span_id == wf.first_error_id


async def test_y_copies_the_trace_id() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        wf = await open_waterfall(app, pilot)
        await pilot.press("y")
        assert wf.trace is not None and app.clipboard == wf.trace.trace_id


async def test_a_failing_trace_source_is_named_and_the_others_still_list() -> None:
    fleet = demo_fleet()
    fleet.backends.append(Backend("tempo", "tempo", FailingTraces()))
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_traces(app, pilot)
        info = text_of(app, "#traces-info")
        assert "tempo failed: connection refused (tempo.internal:3200)" in info
        assert screen.traces  # the demo's traces are still there
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, WaterfallScreen)  # demo answers before tempo is asked


async def test_only_source_down_says_so_and_the_screen_stays() -> None:
    fleet = demo_fleet()
    for b in fleet.backends:
        if b.name in ("demo", "otlp"):
            b.plugin = _Untraced(b.plugin)
    fleet.backends.append(Backend("tempo", "tempo", FailingTraces()))
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_traces(app, pilot)
        info = text_of(app, "#traces-info")
        assert "No traces in the last 60 min (asked: tempo)" in info
        assert "tempo failed: connection refused" in info
        assert screen.table.row_count == 0
        await pilot.press("enter", "e")
        await settle(app, pilot)
        assert app.screen is screen
        app.push_screen(WaterfallScreen("0123456789abcdef0123456789abcdef"))
        await settle(app, pilot)
        title = text_of(app, "#wf-title")
        assert "was not found (asked: tempo)" in title and "tempo failed" in title


class _Untraced:
    """Another plugin without its Traces capability (only what the refresh uses)."""

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:  # the wrapped plugin's, as the contract types it
        if name in ("find_traces", "trace"):
            raise AttributeError(name)
        return getattr(self._inner, name)


# -- the widget on its own -----------------------------------------------------------------


def chain(n: int) -> Trace:
    """A call chain ``n`` deep (recursive code does this), the deepest span failing."""
    tid = "ab" * 16
    spans = tuple(
        Span(
            tid,
            f"{i + 1:016x}",
            f"{i:016x}" if i else None,
            "svc",
            f"call-{i}",
            i * 1000,
            (n - i) * 1000,
            status="error" if i == n - 1 else "unset",
            status_message="boom" if i == n - 1 else "",
        )
        for i in range(n)
    )
    return core_traces.finalize(Trace(tid, spans, source="test"))


class One(App[None]):
    def __init__(self, trace: Trace) -> None:
        super().__init__()
        self.trace = trace

    def compose(self) -> ComposeResult:
        yield Waterfall(self.trace)


async def test_a_5000_deep_chain_renders_and_scrolls_to_the_end() -> None:
    app = One(chain(5000))
    async with app.run_test(size=(120, 30)) as pilot:
        wf = app.query_one(Waterfall)
        wf.focus()
        await pilot.press("end")
        assert wf.selected is not None and wf.selected.name == "call-4999"
        last = lines(wf)[-1]
        assert last.startswith("▶ ") and "  4999   call-4999  " in last  # depth, not indent
        assert len(last) == wf.scrollable_content_region.width
        await pilot.press("pageup")
        assert wf.cursor == 4999 - (wf.scrollable_content_region.height - 2)


def test_axis_ticks_are_round_and_in_ms() -> None:
    ticks = axis_ticks(5_050_000_000, 70)
    assert [label for _c, label in ticks] == ["0", "1000ms", "2000ms", "3000ms", "4000ms", "5000ms"]
    assert ticks[1][0] == int(1000 / 5050 * 70)
    assert axis_ticks(800_000, 60)[1][1].endswith("µs")


def test_bars_keep_their_length_to_an_eighth() -> None:
    assert bar_cells(0.0, 1.0, 10) == (0, "█" * 10)
    assert bar_cells(0.5, 0.55, 10) == (5, "▌")
    assert bar_cells(0.99, 0.99, 10) == (9, "▏")  # an instant is still visible
    assert span_duration(850) == "850ns" and span_duration(5_050_000_000) == "5.05s"
