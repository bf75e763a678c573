"""Pilot tests: ``l`` from a span, a trace or a function shows its log records — sent
through the real embedded receiver — severity-coloured, filterable, following live."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from console.config import OtlpConfig
from console.engine.fleet.build import embedded_traces
from console.engine.otlp.logstore import LogStore
from console.engine.otlp.receiver import OtlpReceiver
from console.engine.otlp.spanstore import SpanStore
from console.engine.store.sqlite import Store
from console.tui.app import CallboardApp
from console.tui.logview import level_styles
from console.tui.screens.function import FunctionScreen
from console.tui.screens.logs import LogsScreen
from console.tui.screens.traces import TracesScreen
from console.tui.screens.waterfall import WaterfallScreen
from tests.tui.test_tui_traces import FAILING, SIZE, open_traces, open_waterfall, settle
from tests.tui_helpers import T0, demo_fleet


class Rig:
    """The demo fleet with the embedded store first, and a receiver writing into it."""

    def __init__(self) -> None:
        self.store = Store(":memory:")
        self.fleet = demo_fleet()
        self.fleet.backends.insert(0, embedded_traces(self.store, OtlpConfig()))
        spans = SpanStore(self.store)
        self.receiver = OtlpReceiver(spans, port=0, logs=LogStore(spans.store))
        self.url = ""

    async def send(self, service: str, *records: dict[str, Any]) -> None:
        res = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
        body = {"resourceLogs": [{"resource": res, "scopeLogs": [{"logRecords": list(records)}]}]}
        async with httpx.AsyncClient() as c:
            r = await c.post(
                self.url, content=json.dumps(body), headers={"Content-Type": "application/json"}
            )
        assert (r.status_code, r.json()) == (200, {})


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    r = Rig()
    _, port = await r.receiver.start()
    r.url = f"http://127.0.0.1:{port}/v1/logs"
    yield r
    await r.receiver.stop()
    r.store.close()


def record(body: str, at_ns: int, number: int = 9, **extra: Any) -> dict[str, Any]:
    return {
        "timeUnixNano": str(at_ns),
        "severityNumber": number,
        "body": {"stringValue": body},
        **extra,
    }


def text_of(screen: Any, selector: str) -> str:
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(
        screen.query_one(selector, Static).content
    )
    return out.getvalue()


async def open_function_logs(app: CallboardApp, pilot: Pilot[None]) -> LogsScreen:
    """After the first refresh: FAILING's function screen, then ``l``, its records loaded."""
    assert app._refresh is not None
    await app._refresh.wait()
    app.open_function(FAILING)
    await pilot.pause()
    await pilot.press("l")
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, LogsScreen)
    return screen


def rows(screen: LogsScreen) -> list[list[str]]:
    t = screen.table
    return [[c.plain for c in t.get_row_at(i)] for i in range(t.row_count)]


async def test_l_on_a_span_shows_its_records_and_follows_a_new_one(rig: Rig) -> None:
    app = CallboardApp(rig.fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        wf = await open_waterfall(app, pilot)
        span = wf.selected
        assert span is not None
        ids = {"traceId": span.trace_id, "spanId": span.span_id}
        t = span.start_ns
        await rig.send(
            span.service,
            record("[bold]card[/bold] declined\x1b[2J\nTraceback: boom", t + 2, 17, **ids),
            record("charging card", t + 1, 9, **ids),
            record("another span's line", t + 3, 9, traceId=span.trace_id, spanId="0" * 15 + "1"),
        )
        await pilot.press("l")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, LogsScreen)
        assert [r[1:] for r in rows(screen)] == [
            ["INFO", span.service, "charging card"],
            ["ERROR", span.service, "[bold]card[/bold] declined (+1 line)"],  # markup stays text
        ]
        assert "2 records, 1 errors" in text_of(screen, "#logs-info")
        assert "Traceback: boom" in text_of(screen, "#logs-detail")  # the newest, whole
        level = screen.table.get_row_at(1)[1]
        assert level_styles(app.get_css_variables())["ERROR"] in str(level.style)

        await rig.send(span.service, record("retry succeeded", t + 10, 9, **ids))
        screen.tick()  # what the follow timer calls
        await settle(app, pilot)
        assert [r[3] for r in rows(screen)] == [
            "charging card",
            "[bold]card[/bold] declined (+1 line)",
            "retry succeeded",
        ]
        assert screen.table.cursor_row == 2  # it was on the last row: it stays at the tail
        screen.tick()
        await settle(app, pilot)
        assert screen.table.row_count == 3  # seen records are not added again

        await pilot.press("slash", *"declined")
        await pilot.pause()
        assert [r[3] for r in rows(screen)] == ["[bold]card[/bold] declined (+1 line)"]
        await pilot.press("escape")  # closes the filter, every row back
        await pilot.pause()
        assert screen.table.row_count == 3 and isinstance(app.screen, LogsScreen)
        await pilot.press("f")
        assert "paused" in text_of(screen, "#logs-title")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, WaterfallScreen)


async def test_l_on_a_trace_without_ids_falls_back_to_the_service_around_it(rig: Rig) -> None:
    app = CallboardApp(rig.fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        traces = await open_traces(app, pilot)
        t = traces.current
        assert t is not None
        await rig.send("checkout", record("no trace context here", t.start_ns + 5))
        await rig.send("checkout", record("an hour later", t.start_ns + 3600 * 10**9))
        await pilot.press("l")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, LogsScreen)
        assert [r[3] for r in rows(screen)] == ["no trace context here"]
        assert "no record carries the id: checkout around its time" in text_of(
            screen, "#logs-title"
        )
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, TracesScreen)


async def test_l_on_a_function_shows_its_service_last_15_minutes_errors_with_e(rig: Rig) -> None:
    now = int(T0 * 1e9)
    await rig.send(
        "checkout",
        record("too old", now - 16 * 60 * 10**9),
        record("pool exhausted", now - 60 * 10**9, 17),
        record("served", now - 30 * 10**9),
    )
    await rig.send("search", record("another service", now - 10 * 10**9))
    app = CallboardApp(rig.fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        assert app._refresh is not None
        await app._refresh.wait()
        await pilot.pause()
        app.open_function(FAILING)
        await pilot.pause()
        assert isinstance(app.screen, FunctionScreen)
        await pilot.press("l")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, LogsScreen)
        assert [r[3] for r in rows(screen)] == ["pool exhausted", "served"]
        await pilot.press("e")
        await settle(app, pilot)
        assert [r[3] for r in rows(screen)] == ["pool exhausted"]
        assert "errors only" in text_of(screen, "#logs-title")


async def test_a_failing_log_source_is_named_and_the_ui_stays_up(rig: Rig) -> None:
    from console.engine.fleet.refresh import Backend
    from console.errors import BackendUnavailable

    class DownLoki:
        async def logs(self, query: Any) -> list[Any]:
            raise BackendUnavailable("cannot connect to http://loki.internal:3100")

        async def aclose(self) -> None:
            return None

    rig.fleet.backends.append(Backend(name="loki", plugin_name="loki", plugin=DownLoki()))
    now = int(T0 * 1e9)
    await rig.send("checkout", record("still here", now - 10**9))
    app = CallboardApp(rig.fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_function_logs(app, pilot)
        assert [r[3] for r in rows(screen)] == ["still here"]
        info = text_of(screen, "#logs-info")
        assert "loki failed: cannot connect to http://loki.internal:3100" in info


async def test_l_on_a_fleet_row_opens_that_functions_logs(rig: Rig) -> None:
    now = int(T0 * 1e9)
    await rig.send("checkout", record("from the fleet", now - 10**9))
    app = CallboardApp(rig.fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        assert app._refresh is not None
        await app._refresh.wait()
        await pilot.pause()
        assert app.screen.table.cursor_key == FAILING  # type: ignore[attr-defined]
        await pilot.press("l")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, LogsScreen) and screen.target.function_id == FAILING
        assert [r[3] for r in rows(screen)] == ["from the fleet"]


async def test_a_poll_asked_before_a_reload_is_dropped(rig: Rig) -> None:
    from console.tui.screens.logs import LogsFound

    now = int(T0 * 1e9)
    await rig.send("checkout", record("served", now - 2 * 10**9), record("failed", now - 10**9, 17))
    app = CallboardApp(rig.fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_function_logs(app, pilot)
        stale = screen.generation
        await pilot.press("e")  # errors only: a reload
        await settle(app, pilot)
        assert [r[3] for r in rows(screen)] == ["failed"]
        late = LogsFound([], {}, [], poll=True, generation=stale)
        late.records = list(await rig.fleet.find_logs(screen.target.query))  # the old query's
        screen.post_message(late)  # a poll of the query before "e", answering after it
        await pilot.pause()
        assert [r[3] for r in rows(screen)] == ["failed"]
