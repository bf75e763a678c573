"""Snapshot of the logs screen at 80×24: ``l`` on the failing ``checkout:POST /pay`` of the
seeded demo (fixed clock), its records from the embedded store, levels coloured from the
theme. Regenerate after looking at the report:
``pytest tests/tui/test_tui_logs_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from console.config import OtlpConfig
from console.core.logmodel import LogRecord
from console.engine.fleet.build import embedded_traces
from console.engine.otlp.logstore import LogStore
from console.engine.store.sqlite import Store
from console.tui.app import CallboardApp
from tests.tui.test_tui_traces import settle
from tests.tui_helpers import T0, demo_fleet

NOW = int(T0 * 1e9)
RECORDS = [
    (-240, "DEBUG", 5, "pool stats: 18/20 connections in use"),
    (-180, "INFO", 9, "POST /pay order=81234 amount=42.00 EUR"),
    (-120, "WARN", 13, "upstream payments-gw slow: 1840 ms (budget 800 ms)"),
    (
        -90,
        "ERROR",
        17,
        "charge failed: timeout after 2000 ms\nTraceback (most recent call last):\n  ...",
    ),
    (-60, None, None, "a line with no severity at all"),
    (-30, "FATAL", 21, "circuit open: payments-gw"),
]


def test_logs_of_a_function_at_80x24(snap_compare: Callable[..., bool]) -> None:
    store = Store(":memory:")
    LogStore(store).add(
        [
            LogRecord(NOW + s * 10**9, body, "checkout", level, number, scope="checkout.pay")
            for s, level, number, body in RECORDS
        ]
    )
    fleet = demo_fleet()
    fleet.backends.insert(0, embedded_traces(store, OtlpConfig()))

    async def before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, CallboardApp) and app._refresh is not None
        await app._refresh.wait()
        await pilot.pause()
        app.open_function("checkout:POST /pay")
        await pilot.pause()
        await pilot.press("l")
        await settle(app, pilot)
        await pilot.press("up", "up")  # the ERROR record, its whole message below
        await pilot.pause()

    app = CallboardApp(fleet, refresh_interval=3600)
    try:
        assert snap_compare(app, terminal_size=(80, 24), run_before=before)
    finally:
        store.close()
