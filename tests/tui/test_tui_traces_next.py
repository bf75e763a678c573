"""Traces and the waterfall: a key pressed before the data arrives is not lost, and the
next step (``r`` a runbook, ``i`` an incident) is one key away for the function shown."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from console.core.model import Trace, TraceQuery, TraceSummary
from console.engine.store.sqlite import Store
from console.tui.app import CallboardApp
from console.tui.dialogs.incident_dialogs import OpenIncidentScreen
from console.tui.screens.function import FunctionScreen
from console.tui.screens.runner import RunnerScreen
from console.tui.screens.traces import TracesScreen
from console.tui.screens.waterfall import WaterfallScreen
from tests.tui.test_tui_traces import FAILING, SIZE, open_traces, open_waterfall, settle
from tests.tui_helpers import demo_fleet


class _Gated:
    """A trace source whose search waits for the test (a slow Tempo)."""

    def __init__(self, inner: object, gate: asyncio.Event) -> None:
        self._inner = inner
        self._gate = gate

    async def find_traces(self, query: TraceQuery) -> list[TraceSummary]:
        await self._gate.wait()
        found: list[TraceSummary] = await self._inner.find_traces(query)  # type: ignore[attr-defined]
        return found

    async def trace(self, trace_id: str) -> Trace | None:
        found: Trace | None = await self._inner.trace(trace_id)  # type: ignore[attr-defined]
        return found

    def __getattr__(self, name: str) -> Any:  # the wrapped plugin's, as the contract types it
        return getattr(self._inner, name)


async def until(pilot: Pilot[None], ready: object, what: str) -> None:
    for _ in range(300):
        if callable(ready) and ready():
            return
        await pilot.pause()
    raise AssertionError(f"gave up waiting for {what}")


async def test_enter_right_after_t_opens_the_first_trace_once_loaded() -> None:
    gate = asyncio.Event()
    fleet = demo_fleet()
    for b in fleet.backends:
        if b.name in ("demo", "otlp"):
            b.plugin = _Gated(b.plugin, gate)
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        assert app._refresh is not None
        await app._refresh.wait()
        await pilot.pause()
        app.open_function(FAILING)
        await pilot.pause()
        assert isinstance(app.screen, FunctionScreen)
        await pilot.press("t", "enter")  # faster than the trace source
        await pilot.pause()
        traces = app.screen
        assert isinstance(traces, TracesScreen) and not traces.traces
        gate.set()
        await until(pilot, lambda: isinstance(app.screen, WaterfallScreen), "the waterfall")
        assert isinstance(app.screen, WaterfallScreen)
        assert app.screen.trace_id == traces.traces[0].trace_id  # the row the cursor is on


async def test_r_and_i_act_on_the_function_from_traces_and_the_waterfall(tmp_path: Path) -> None:
    store = Store(tmp_path / "callboard.db")
    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=store)
    async with app.run_test(size=SIZE) as pilot:
        await open_waterfall(app, pilot)
        waterfall = app.screen
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, OpenIncidentScreen), "the dialog")
        assert app.screen.function_id == FAILING  # type: ignore[attr-defined]
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is waterfall, "the waterfall again")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RunnerScreen), "the runner")
        assert app.screen.function_id == FAILING  # type: ignore[attr-defined]
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is waterfall, "the waterfall again")
        await pilot.press("escape")
        await settle(app, pilot)
        assert isinstance(app.screen, TracesScreen)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RunnerScreen), "the runner")
        assert app.screen.function_id == FAILING  # type: ignore[attr-defined]
    store.close()


async def test_at_80x24_errors_and_the_trace_id_stay_visible() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_traces(app, pilot)
        table = screen.table
        keys = [str(c.key.value) for c in table.ordered_columns]
        assert "errors" in keys and "trace_id" in keys  # what a responder needs
        assert "source" not in keys  # the low-priority columns went first
        assert sum(c.get_render_width(table) for c in table.ordered_columns) <= 80 - 2
        first = screen.traces[0]
        cells = dict(zip(keys, table.get_row_at(0), strict=True))
        tid = cells["trace_id"].plain
        assert "…" in tid and tid.startswith(first.trace_id[:6])  # cut in the middle
        assert tid.endswith(first.trace_id[-6:])
        assert cells["errors"].plain == str(first.error_count)
        await pilot.press("y")
        assert app.clipboard == first.trace_id  # the whole id, not the cut one
        await pilot.resize_terminal(140, 45)
        await pilot.pause()
        keys = [str(c.key.value) for c in table.ordered_columns]
        assert keys == ["start", "root", "duration", "spans", "errors", "source", "trace_id"]
        assert table.get_row_at(0)[-1].plain == first.trace_id
