"""The console's receiver runs in a child process that writes into the console's store."""

from __future__ import annotations

import errno
import json
import socket
from pathlib import Path

import httpx
import pytest

from console.core.model import TraceQuery
from console.engine.otlp.spanstore import SpanStore
from console.engine.store.sqlite import Store
from console.tui.receiver import ReceiverProcess

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "otlp" / "trace.json"


async def test_spans_posted_to_the_child_are_in_the_consoles_store(tmp_path: Path) -> None:
    db = str(tmp_path / "cb.db")
    console_store = Store(db)  # the console's own connection, open before the child starts
    rx = ReceiverProcess(db, "127.0.0.1", 0, max_spans=100, max_age_s=3600)
    host, port = await rx.start()
    try:
        async with httpx.AsyncClient() as c:
            r = await c.post(
                f"http://{host}:{port}/v1/traces",
                content=FIXTURE.read_bytes(),
                headers={"Content-Type": "application/json"},
            )
            bad = await c.post(
                f"http://{host}:{port}/v1/traces",
                content=b'{"resourceSpans": [{"x": 1e999}]}',
                headers={"Content-Type": "application/json"},
            )
    finally:
        proc = rx._proc
        await rx.stop()
    assert r.status_code == 200 and json.loads(r.content) == {}
    assert bad.status_code == 400
    found = SpanStore(console_store).find_traces(TraceQuery(service="my.service"))
    assert [t.trace_id for t in found] == ["5b8efff798038103d269b633813fc60c"]
    assert proc is not None and proc.returncode == 0  # it stopped when its stdin closed
    console_store.close()


async def test_a_busy_port_is_an_oserror_with_the_childs_errno(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        rx = ReceiverProcess(str(tmp_path / "cb.db"), "127.0.0.1", port, max_spans=10, max_age_s=60)
        with pytest.raises(OSError) as err:
            await rx.start()
    assert err.value.errno == errno.EADDRINUSE


async def test_logs_posted_to_the_child_are_in_the_consoles_store(tmp_path: Path) -> None:
    from console.core.logmodel import LogQuery
    from console.engine.otlp.logstore import LogStore

    db = str(tmp_path / "cb.db")
    console_store = Store(db)
    rx = ReceiverProcess(db, "127.0.0.1", 0, max_spans=100, max_age_s=3600, max_logs=2)
    host, port = await rx.start()
    logs = FIXTURE.parent / "logs.json"
    try:
        async with httpx.AsyncClient() as c:
            for _ in range(3):  # three records into a store that keeps two
                r = await c.post(
                    f"http://{host}:{port}/v1/logs",
                    content=logs.read_bytes(),
                    headers={"Content-Type": "application/json"},
                )
                assert (r.status_code, json.loads(r.content)) == (200, {})
    finally:
        await rx.stop()
    store = LogStore(console_store)
    found = store.logs(LogQuery(trace_id="5b8efff798038103d269b633813fc60c"))
    assert [x.body for x in found] == ["Example log record"] * 2 and store.count() == 2
    console_store.close()
