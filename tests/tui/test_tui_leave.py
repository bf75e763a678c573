"""Leaving a run in progress: q and palette navigation ask first, and a confirmed leave
cancels the run cleanly (recorded cancelled, never left running)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from textual.widgets import Button

from console.context import AppContext
from console.core.runbook import load_runbook
from console.engine.runbooks.runs import RunStore
from console.tui.dialogs.leave import LeaveRunScreen
from console.tui.screens.function import FunctionScreen
from console.tui.screens.runner import RunnerScreen
from tests.tui.test_tui import screen_text, settled
from tests.tui.test_tui_runner import (
    AUTHORIZE,
    FLAKY,
    HEALTHY,
    SIZE,
    dry_run,
    make_app,
    until,
)


def runbook_file(tmp_path: Path) -> Path:
    rb = tmp_path / "open-then-flaky.yaml"
    rb.write_text(f"""\
id: open-then-flaky
title: Open a circuit, then a step that needs a retry
steps:
  - id: open
    kind: action
    action: circuit_open
    params: {{dependency: bank-gateway}}
  - id: flaky
    kind: command
    retries: 1
    command: [{sys.executable!r}, -c, {FLAKY!r}, {str(tmp_path / "marker")!r}]
  - {{id: after, kind: note, text: never reached}}
""")
    return rb


async def test_q_mid_run_asks_and_stay_keeps_the_run(ctx: AppContext, tmp_path: Path) -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def gated(_: float) -> None:  # the retry's backoff waits for the test
        entered.set()
        await release.wait()

    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        screen = RunnerScreen(
            load_runbook(runbook_file(tmp_path)), AUTHORIZE, app.env, poll_every=0, sleep=gated
        )
        await app.push_screen(screen)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await until(pilot, entered.is_set, "the retry's backoff")
        await pilot.press("q")
        await until(pilot, lambda: "A run is in progress" in screen_text(app), "the question")
        assert f"A run is in progress on {AUTHORIZE} — cancel it and quit?" in screen_text(app)
        assert isinstance(app.focused, Button) and app.focused.id == "leave-stay"
        assert "Cancelling stops the run at once" in screen_text(app)  # not "before its next"
        await pilot.press("enter")  # Enter alone stays
        await until(pilot, lambda: app.screen is screen, "the runner again")
        assert app.is_running and screen.running
        # q again, this time leave: the cancel ends the retry's backoff at once.
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, LeaveRunScreen), "the question")
        await pilot.press("tab", "enter")
        await until(pilot, lambda: not app.is_running, "the app to quit")
    runs = [r for r in RunStore(ctx.store).recent() if not r.dry_run]
    assert [r.status for r in runs] == ["cancelled"]
    assert [s.status for s in runs[0].steps] == ["done", "cancelled", "pending"]


async def test_palette_navigation_mid_run_cancels_it_first(ctx: AppContext, tmp_path: Path) -> None:
    entered, never = asyncio.Event(), asyncio.Event()

    async def blocked(_: float) -> None:  # a step that does not end by itself
        entered.set()
        await never.wait()

    app = make_app(ctx)
    app.leave_wait_s = 0  # abandon the blocked step at once
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        screen = RunnerScreen(
            load_runbook(runbook_file(tmp_path)), AUTHORIZE, app.env, poll_every=0, sleep=blocked
        )
        await app.push_screen(screen)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await until(pilot, entered.is_set, "the retry's backoff")
        app.open_function(HEALTHY)  # what the palette's "go to a function" calls
        await until(pilot, lambda: "cancel it and open" in screen_text(app), "the question")
        assert f"cancel it and open {HEALTHY}?" in screen_text(app)
        await pilot.press("tab", "enter")
        await until(pilot, lambda: isinstance(app.screen, FunctionScreen), "the function")
        assert isinstance(app.screen, FunctionScreen) and app.screen.function_id == HEALTHY
        assert not any(isinstance(s, RunnerScreen) for s in app.screen_stack)
    runs = [r for r in RunStore(ctx.store).recent() if not r.dry_run]
    assert [r.status for r in runs] == ["cancelled"]  # not "running" forever
    assert runs[0].steps[1].to_json("cancelled")["status"] == "unknown"  # abandoned mid-step


async def test_q_without_a_run_quits_at_once(ctx: AppContext) -> None:
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running, "the app to quit")
