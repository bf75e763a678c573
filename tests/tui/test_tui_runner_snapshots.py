"""Snapshots of the runbook runner on the seeded demo fleet (fixed clock, 140×45).

Run ids are random, so the store's id source is replaced by a counter here (the only patch:
the rest of the app is injected). Regenerate after looking at the report:
``pytest tests/tui/test_tui_runner_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from console.config import Config
from console.context import AppContext
from console.engine.fleet.build import build_fleet
from console.engine.runbooks import runs
from console.tui.app import CallboardApp
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.screens.runner import RunnerScreen
from tests.tui.conftest import NO_RECEIVER
from tests.tui_helpers import fixed_clock

SIZE = (140, 45)
#: The console's own OTLP receiver stays off here: no port 4318 in tests.


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CallboardApp]:
    counter = itertools.count(1)
    fake = SimpleNamespace(uuid4=lambda: SimpleNamespace(hex=f"{next(counter):012x}" * 2))
    monkeypatch.setattr(runs, "uuid", fake)
    ctx = AppContext(db_path=str(tmp_path / "cb.db"), demo=True, _config=NO_RECEIVER)
    fleet = build_fleet(Config(), store=ctx.store, demo=True, clock=fixed_clock)
    yield CallboardApp(fleet, refresh_interval=3600, context=ctx)
    ctx.close()


async def until(pilot: Pilot[Any], ready: Callable[[], bool]) -> None:
    for _ in range(300):
        if ready():
            return
        await pilot.pause()
    raise AssertionError("gave up waiting")


async def dry_run(pilot: Pilot[Any]) -> RunnerScreen:
    app = pilot.app
    assert isinstance(app, CallboardApp)
    if app._refresh is not None:
        await app._refresh.wait()
    await pilot.pause()
    await pilot.press("r")
    await until(pilot, lambda: bool(app.screen.query("#rb-steps")))
    screen = app.screen
    assert isinstance(screen, RunnerScreen)
    for inp in screen.query(Input):
        inp.cursor_blink = False
    await pilot.press("enter")
    await until(pilot, lambda: screen.activity is None and screen.record is not None)
    return screen


def test_runner_after_a_dry_run(snap_compare: Callable[..., bool], app: CallboardApp) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await dry_run(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_production_confirmation(snap_compare: Callable[..., bool], app: CallboardApp) -> None:
    app.fleet.environment, app.fleet.production = "prod-eu", True

    async def before(pilot: Pilot[Any]) -> None:
        await dry_run(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))

    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_runner_at_80x24_shows_the_plan_first(
    snap_compare: Callable[..., bool], app: CallboardApp
) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await dry_run(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=before)
