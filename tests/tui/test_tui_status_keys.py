"""Pilot: on the timeline, ``m`` then Enter marks the incident mitigated and ``R`` then Enter
resolves it — the confirmation is the guard, its focus starts on the button it names (no
``tab`` first); Esc still cancels.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from console.engine.incidents.lifecycle import get_incident, open_incident
from console.engine.store.sqlite import Store
from console.tui.app import CallboardApp
from console.tui.dialogs.incident_dialogs import ConfirmStatusScreen
from console.tui.screens.timeline import TimelineScreen
from tests.tui_helpers import demo_fleet

PAY = "checkout:POST /pay"


async def until(app: CallboardApp, pilot: Pilot[None], cond: Callable[[], bool]) -> None:
    """Let workers and messages run until ``cond`` holds (bounded: fails after 50 rounds)."""
    for _ in range(50):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if cond():
            return
    raise AssertionError("the TUI never reached the expected state")


async def test_m_enter_mitigates_and_shift_r_enter_resolves(tmp_path: Path) -> None:
    store = Store(tmp_path / "callboard.db")
    open_incident(store, "Checkout timeouts", [PAY], "SEV2", at="2026-11-26T20:50:00.000Z")
    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(app, pilot, lambda: app.snapshot is not None)
        await pilot.press("I")
        await until(app, pilot, lambda: isinstance(app.screen, TimelineScreen)
                    and app.screen.pm is not None)  # fmt: skip

        await pilot.press("m")
        await until(app, pilot, lambda: isinstance(app.screen, ConfirmStatusScreen))
        await pilot.press("escape")  # Esc cancels: nothing recorded
        await until(app, pilot, lambda: isinstance(app.screen, TimelineScreen))
        assert get_incident(store, "INC-0001").status == "open"

        await pilot.press("m")
        await until(app, pilot, lambda: isinstance(app.screen, ConfirmStatusScreen))
        await pilot.press("enter")
        await until(app, pilot, lambda: get_incident(store, "INC-0001").status == "mitigated")

        await until(app, pilot, lambda: isinstance(app.screen, TimelineScreen))
        await pilot.press("R")
        await until(app, pilot, lambda: isinstance(app.screen, ConfirmStatusScreen))
        await pilot.press("enter")
        await until(app, pilot, lambda: get_incident(store, "INC-0001").status == "resolved")
