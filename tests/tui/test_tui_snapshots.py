"""Snapshot tests: the seeded demo fleet on a fixed clock, at 140×45.

Regenerate after looking at the report: ``pytest tests/tui/test_tui_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from console.tui.app import CallboardApp
from tests.tui_helpers import demo_fleet, fake_fleet

SIZE = (140, 45)


async def loaded(pilot: Pilot[None]) -> None:
    """Wait for the first refresh (and the function screen's series, if any) to land."""
    app = pilot.app
    assert isinstance(app, CallboardApp)
    if app._refresh is not None:
        await app._refresh.wait()
    await pilot.pause()
    for inp in app.query(Input):
        inp.cursor_blink = False


def app() -> CallboardApp:
    return CallboardApp(demo_fleet(), refresh_interval=3600)


def test_fleet_screen(snap_compare: Callable[..., bool]) -> None:
    assert snap_compare(app(), terminal_size=SIZE, run_before=loaded)


def test_fleet_filtered(snap_compare: Callable[..., bool]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("slash", *"pay")
        await pilot.pause()
        for inp in pilot.app.query(Input):
            inp.cursor_blink = False

    assert snap_compare(app(), terminal_size=SIZE, run_before=before)


def test_function_screen(snap_compare: Callable[..., bool]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.app.screen.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app(), terminal_size=SIZE, run_before=before)


def test_help_screen(snap_compare: Callable[..., bool]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app(), terminal_size=SIZE, run_before=before)


def test_production_read_only_grouped(snap_compare: Callable[..., bool]) -> None:
    fleet = fake_fleet(30, environment="prod-eu", production=True, read_only=True)

    async def before(pilot: Pilot[Any]) -> None:
        await loaded(pilot)
        await pilot.press("g", "p")
        await pilot.pause()

    assert snap_compare(
        CallboardApp(fleet, refresh_interval=3600), terminal_size=SIZE, run_before=before
    )
