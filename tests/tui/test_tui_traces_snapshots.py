"""Snapshot of the waterfall: the seeded demo on a fixed clock, at 140×45.

The failing ``checkout:POST /pay``: ``t`` lists its traces, Enter opens the newest failing
one, ``f`` jumps to the first error span. Regenerate after looking at the report:
``pytest tests/tui/test_tui_traces_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from console.tui.app import CallboardApp
from tests.tui_helpers import demo_fleet

SIZE = (140, 45)


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.app.screen.workers.wait_for_complete()
    await pilot.pause()


def test_waterfall_first_error(snap_compare: Callable[..., bool]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, CallboardApp) and app._refresh is not None
        await app._refresh.wait()
        await pilot.pause()
        app.open_function("checkout:POST /pay")
        await pilot.pause()
        await pilot.press("t")
        await _settle(pilot)
        await pilot.press("enter")
        await _settle(pilot)
        await pilot.press("f")
        await pilot.pause()

    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_traces_at_80x24_keep_errors_and_the_trace_id(snap_compare: Callable[..., bool]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, CallboardApp) and app._refresh is not None
        await app._refresh.wait()
        await pilot.pause()
        app.open_function("checkout:POST /pay")
        await pilot.pause()
        await pilot.press("t")
        await _settle(pilot)

    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    assert snap_compare(app, terminal_size=(80, 24), run_before=before)
