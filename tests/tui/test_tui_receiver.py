"""The console runs the embedded OTLP receiver; a busy port is reported, not fatal."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx

from console.context import AppContext
from console.core.model import TraceQuery
from console.tui.app import CallboardApp
from console.tui.widgets.status_bar import StatusBar

SIZE = (140, 45)

SPAN = {
    "resourceSpans": [
        {
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]},
            "scopeSpans": [
                {
                    "spans": [
                        {
                            "traceId": "5B8EFFF798038103D269B633813FC60C",
                            "spanId": "EEE19B7EC3C1B174",
                            "name": "GET /cart",
                            "kind": 2,
                            "startTimeUnixNano": "1800000000000000000",
                            "endTimeUnixNano": "1800000000500000000",
                            "status": {"code": 2, "message": "boom"},
                        }
                    ]
                }
            ],
        }
    ]
}


def context(tmp_path: Path, port: int) -> AppContext:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"otlp: {{enabled: true, host: 127.0.0.1, port: {port}}}\n")
    return AppContext(config_path=str(cfg), demo=True, db_path=str(tmp_path / "cb.db"))


def header(app: CallboardApp) -> str:
    return str(app.screen.query_one(StatusBar).render())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_spans_sent_to_the_console_become_traces(tmp_path: Path) -> None:
    ctx = context(tmp_path, free_port())
    app = CallboardApp(ctx.fleet(), refresh_interval=3600, context=ctx, store=ctx.store)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.receiver is not None
        assert f"OTLP ← 127.0.0.1:{app.receiver.port}" in header(app)
        async with httpx.AsyncClient() as client:
            r = await client.post(f"http://127.0.0.1:{app.receiver.port}/v1/traces", json=SPAN)
        assert r.status_code == 200
        found = await app.fleet.find_traces(TraceQuery(service="shop"))
        assert [t.trace_id for t in found] == ["5b8efff798038103d269b633813fc60c"]


async def test_a_busy_port_is_shown_in_the_header_and_nothing_else_breaks(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ctx = context(tmp_path, port)
        app = CallboardApp(ctx.fleet(), refresh_interval=3600, context=ctx, store=ctx.store)
        async with app.run_test(size=SIZE) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert app.receiver is None
            assert f"OTLP 127.0.0.1:{port} busy" in header(app)
            assert app.snapshot is not None and len(app.snapshot.functions) >= 40
