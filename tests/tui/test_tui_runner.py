"""Pilot tests of the runbook runner on the seeded demo fleet (fixed clock, tmp store, 140×45).

What an on-call engineer does and sees: a dry run that changes nothing, a confirmation
naming the target (outside production Enter confirms), a run that clears the finding, a refusal that is recorded, a failing
step, a cancel between steps with its undo, and the resume of an interrupted run. Waits are
bounded loops of ``pilot.pause()``; the verify poll interval is injected as zero.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input

from console.config import Config
from console.context import AppContext
from console.core.model import FailureMode
from console.core.runbook import load_runbook
from console.engine.fleet.build import build_fleet
from console.engine.runbooks.runs import RunRecord, RunStore
from console.engine.store.events import EventLog
from console.tui.app import CallboardApp
from console.tui.dialogs.confirm import ConfirmScreen, DecideScreen
from console.tui.dialogs.pick_runbook import PickRunbookScreen, open_runner, runbook_choices
from console.tui.screens.function import FunctionScreen
from console.tui.screens.runner import RunnerScreen
from tests.tui.test_tui import screen_text, settled
from tests.tui_helpers import fixed_clock

SIZE = (140, 45)
#: The console's own OTLP receiver stays off here: no port 4318 in tests.
PAY = "checkout:POST /pay"
AUTHORIZE = "payments:rpc Authorize"
HEALTHY = "cart:GET /cart"


def make_app(ctx: AppContext, *, production: bool = False, incidents: bool = False) -> CallboardApp:
    """The demo app on ``ctx``; ``incidents``: as ``callboard --demo --db FILE`` runs it,
    incidents on (the app gets the store)."""
    fleet = build_fleet(Config(), store=ctx.store, demo=True, clock=fixed_clock)
    if production:
        fleet.environment, fleet.production = "prod-eu", True
    store = ctx.store if incidents else None
    return CallboardApp(fleet, refresh_interval=3600, context=ctx, store=store)


async def until(pilot: Pilot[None], ready: Callable[[], bool], what: str) -> None:
    """Let the app work until ``ready()`` (bounded: a hang fails, it never blocks)."""
    for _ in range(300):
        if ready():
            return
        await pilot.pause()
    raise AssertionError(f"gave up waiting for {what}")


def runner_shown(app: CallboardApp) -> bool:
    return isinstance(app.screen, RunnerScreen) and bool(app.screen.query("#rb-steps"))


async def runner_for(app: CallboardApp, pilot: Pilot[None], fid: str = PAY) -> RunnerScreen:
    """From the fleet: select ``fid``, press r, and return its runner."""
    await settled(app, pilot)
    assert app.fleet_screen.select(fid)
    await pilot.press("r")
    await until(pilot, lambda: runner_shown(app), "the runner")
    screen = app.screen
    assert isinstance(screen, RunnerScreen)
    screen.poll_every = 0
    return screen


async def idle(pilot: Pilot[None], screen: RunnerScreen) -> None:
    await until(pilot, lambda: screen.activity is None and screen.record is not None, "the run")


async def dry_run(pilot: Pilot[None], screen: RunnerScreen) -> None:
    await pilot.press("enter")
    await idle(pilot, screen)
    assert screen.record is not None and screen.record.dry_run


async def modal(pilot: Pilot[None], app: CallboardApp, kind: type) -> None:
    await until(pilot, lambda: isinstance(app.screen, kind), kind.__name__)


async def modes(app: CallboardApp, fid: str) -> set[FailureMode]:
    return {f.mode for f in (await app.fleet.refresh()).by_id()[fid].findings}


def events(ctx: AppContext, run_id: str) -> list[tuple[str, object]]:
    return [(e.kind, e.data.get("step")) for e in EventLog(ctx.store).iter() if e.run_id == run_id]


async def test_dry_run_plans_every_step_and_changes_nothing(ctx: AppContext) -> None:
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot)
        text = screen_text(app)
        assert "rollback-bad-deploy" in text and PAY in text and "F1 Timeout" in text
        assert "Enter: dry run (changes nothing)" in text
        assert screen.query_one("#param-0", Input).value == "0.02"  # the default, prefilled
        await dry_run(pilot, screen)
        record = screen.record
        assert record is not None and record.status == "succeeded"
        assert [s.status for s in record.steps] == ["planned"] * 6
        text = screen_text(app)
        assert "every step planned, nothing changed" in text
        assert "v2.14.0 to v2.13.2" in text  # the rollback's plan, from the demo plugin
        assert "Enter: run for real" in text
        assert FailureMode.F1 in await modes(app, PAY)  # nothing changed
        assert ("step.intent", "rollback") not in events(ctx, record.id)


async def test_confirm_runs_verifies_and_the_finding_clears(ctx: AppContext) -> None:
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await modal(pilot, app, ConfirmScreen)
        # outside production the focus starts on Confirm (in production: on Cancel, see
        # tests/tui/test_tui_confirm_defaults.py)
        assert isinstance(app.focused, Button) and app.focused.id == "confirm-ok"
        text = screen_text(app)
        assert (
            f"on {PAY} in demo" in text and "the runbook asks: this step is marked confirm" in text
        )
        await pilot.press("enter")
        await idle(pilot, screen)
        record = screen.record
        assert record is not None and not record.dry_run and record.status == "succeeded"
        assert [s.status for s in record.steps] == ["done"] * 6
        assert "poll 1: F1 not diagnosed" in record.steps[4].output
        stored = RunStore(ctx.store).get(record.id)
        assert stored is not None and stored.status == "succeeded"
        assert ("step.confirmed", "rollback") in events(ctx, record.id)
        assert FailureMode.F1 not in await modes(app, PAY)
        await settled(app, pilot)  # the runner asked the app for a refresh
        assert "F1 Timeout: no longer diagnosed" in screen_text(app)


async def test_cancel_in_the_confirmation_refuses_and_is_recorded(ctx: AppContext) -> None:
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await modal(pilot, app, ConfirmScreen)
        await pilot.click("#confirm-cancel")
        await idle(pilot, screen)
        record = screen.record
        assert record is not None and record.status == "refused"
        assert [s.to_json(record.status)["status"] for s in record.steps] == [
            *("done", "done", "refused"),
            *("skipped", "skipped", "skipped"),
        ]
        assert ("step.refused", "rollback") in events(ctx, record.id)
        assert FailureMode.F1 in await modes(app, PAY)
        assert "refused" in screen_text(app)
        await until(  # R can pick it up
            pilot, lambda: [r.id for r in screen.resumable] == [record.id], "the stopped run"
        )


async def test_production_confirmation_is_red_and_names_target_and_environment(
    ctx: AppContext,
) -> None:
    app = make_app(ctx, production=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await modal(pilot, app, ConfirmScreen)
        confirm = app.screen
        assert confirm.has_class("-production")
        assert confirm.query_one("#confirm-ok", Button).variant == "error"
        assert f"on {PAY} in PRODUCTION prod-eu" in screen_text(app)
        await pilot.press("escape")  # Esc cancels too
        await idle(pilot, screen)
        assert screen.record is not None and screen.record.status == "refused"


async def test_a_failing_step_shows_failed(ctx: AppContext) -> None:
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        open_runner(app, HEALTHY, "rollback-bad-deploy", None)  # no timeouts here
        await until(pilot, lambda: runner_shown(app), "the runner")
        screen = app.screen
        assert isinstance(screen, RunnerScreen)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await idle(pilot, screen)
        record = screen.record
        assert record is not None and record.status == "failed"
        statuses = [s.to_json(record.status)["status"] for s in record.steps]
        assert statuses == ["failed", *["skipped"] * 5]  # stopped before the rollback
        assert "failed" in screen_text(app) and "✗" in screen_text(app)
        stored = RunStore(ctx.store).get(record.id)
        assert stored is not None and stored.status == "failed"


async def test_params_are_validated_inline(ctx: AppContext) -> None:
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        open_runner(app, AUTHORIZE, "dependency-circuit-open", None)
        await until(pilot, lambda: runner_shown(app), "the runner")
        screen = app.screen
        assert isinstance(screen, RunnerScreen)
        box = screen.query_one("#param-0", Input)
        assert app.focused is box  # the required param without a default
        await pilot.press("enter")
        assert "required" in screen_text(app)
        await pilot.press(*"bank!")
        await pilot.press("enter")
        assert "must match" in screen_text(app)
        assert RunStore(ctx.store).recent() == []  # nothing ran
        box.value = "bank-gateway"
        await pilot.press("enter")
        await idle(pilot, screen)
        assert screen.record is not None and screen.record.status == "succeeded"
        assert screen.record.params == {"dependency": "bank-gateway"}


FLAKY = "import os, sys; p = sys.argv[1]; seen = os.path.exists(p); open(p, 'a').close(); sys.exit(0 if seen else 1)"


async def test_cancel_between_steps_then_undo(ctx: AppContext, tmp_path: Path) -> None:
    rb_file = tmp_path / "open-then-flaky.yaml"
    rb_file.write_text(f"""\
id: open-then-flaky
title: Open a circuit, then a step that needs a retry
steps:
  - id: open
    kind: action
    action: circuit_open
    params: {{dependency: bank-gateway}}
    undo: {{kind: action, action: circuit_close, params: {{dependency: bank-gateway}}}}
  - id: flaky
    kind: command
    retries: 1
    command: [{sys.executable!r}, -c, {FLAKY!r}, {str(tmp_path / "marker")!r}]
  - {{id: after, kind: note, text: never reached}}
""")
    entered, release = asyncio.Event(), asyncio.Event()

    async def gated(_: float) -> None:  # the retry's backoff waits for the test
        entered.set()
        await release.wait()

    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        env = app.env
        screen = RunnerScreen(load_runbook(rb_file), AUTHORIZE, env, poll_every=0, sleep=gated)
        await app.push_screen(screen)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await until(pilot, entered.is_set, "the retry's backoff")
        await pilot.press("c")  # the backoff ends at once: no release needed
        await idle(pilot, screen)
        record = screen.record
        assert record is not None and record.status == "cancelled"
        # the cancel ends the retry's backoff at once: the flaky step stops cancelled
        assert [s.status for s in record.steps] == ["done", "cancelled", "pending"]
        assert screen.check_action("undo", ()) is True  # u is offered in the footer
        await pilot.press("u")
        await idle(pilot, screen)
        undone = screen.record
        assert undone is not None
        assert [(s.id, s.status) for s in undone.steps if s.idx >= 1000] == [("open.undo", "done")]
        assert ("run.undo", None) in events(ctx, record.id)


def crashed(runs: RunStore, run: RunRecord) -> None:
    """Store ``run`` as a process that died mid-run leaves it (what ``reconcile`` finds):
    interrupted, the step that was running ``unknown``."""
    run.status = "interrupted"
    with runs.store.transaction() as conn:
        runs.insert(conn, run)


async def test_resume_an_interrupted_run_after_deciding(ctx: AppContext) -> None:
    runs = RunStore(ctx.store)
    rb_steps = ["confirm-symptom", "announce", "rollback", "timeouts-recover"]
    rb_steps += ["finding-clears", "communicate"]
    kinds = ["check", "note", "action", "verify", "verify", "note"]
    run = runs.new(
        "rollback-bad-deploy",
        "",
        PAY,
        {"recovered_below": 0.02},
        list(zip(rb_steps, kinds, strict=True)),
        dry_run=False,
        incident_id=None,
        environment="demo",
    )
    for rec in run.steps[:2]:
        rec.status, rec.output = "done", "before the crash"
    run.steps[2].status = "unknown"  # the rollback had started when the process died
    crashed(runs, run)

    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot)
        await until(pilot, lambda: [r.id for r in screen.resumable] == [run.id], "the run")
        assert "outcome unknown: rollback" in screen_text(app)
        await pilot.press("R")
        await modal(pilot, app, DecideScreen)
        assert app.focused is not None and app.focused.id == "decide-cancel"
        await pilot.press("escape")  # not sure yet: the resume is refused, and recorded
        await idle(pilot, screen)
        assert screen.record is not None and screen.record.status == "refused"
        assert ("step.refused", "rollback") in events(ctx, run.id)

        await pilot.press("R")
        await modal(pilot, app, DecideScreen)
        await pilot.press("tab", "tab", "enter")  # "It did not: run it again"
        await modal(pilot, app, ConfirmScreen)
        await pilot.press("enter")
        await idle(pilot, screen)
        record = screen.record
        assert record is not None and record.id == run.id and record.status == "succeeded"
        assert [s.status for s in record.steps] == ["done"] * 6
        kinds_seen = events(ctx, run.id)
        assert ("step.intent", "announce") not in kinds_seen  # a done step never repeats
        assert ("step.intent", "rollback") in kinds_seen
        assert FailureMode.F1 not in await modes(app, PAY)
        await until(pilot, lambda: screen.resumable == [], "no stopped run")


async def test_r_on_the_function_screen_opens_the_worst_findings_runbook(
    ctx: AppContext,
) -> None:
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await pilot.press("enter")  # the top row: the worst function
        await pilot.pause()
        assert isinstance(app.screen, FunctionScreen) and app.screen.function_id == PAY
        await pilot.press("r")
        await until(pilot, lambda: runner_shown(app), "the runner")
        assert app.screen.runbook.id == "rollback-bad-deploy"  # type: ignore[attr-defined]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, FunctionScreen)


async def test_several_runbooks_open_a_picker_with_the_worst_first(ctx: AppContext) -> None:
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert app.snapshot is not None
        pay = app.snapshot.by_id()[PAY]
        extra = replace(pay.findings[0], mode=FailureMode.F9, runbooks=("dependency-circuit-open",))
        health = replace(pay, findings=(*pay.findings, extra))
        choices = runbook_choices(health)
        assert [rb for rb, _ in choices] == ["rollback-bad-deploy", "dependency-circuit-open"]
        picked: list[str | None] = []
        app.push_screen(PickRunbookScreen(PAY, choices), picked.append)
        await pilot.pause()
        await pilot.press("enter")  # the worst finding's runbook is highlighted
        await pilot.pause()
        assert picked == ["rollback-bad-deploy"]


async def test_verify_progress_is_shown_while_polling(ctx: AppContext, tmp_path: Path) -> None:
    rb_file = tmp_path / "wait.yaml"
    rb_file.write_text("""\
id: wait-for-timeouts
title: Wait for timeouts to recover (they will not)
steps:
  - {id: recover, kind: verify, signal: timeout_rate, op: "<", value: 0.02, within: 1m, every: 15s}
""")
    polled, release = asyncio.Event(), asyncio.Event()

    async def gated(_: float) -> None:
        polled.set()
        await release.wait()

    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        screen = RunnerScreen(load_runbook(rb_file), PAY, app.env, sleep=gated)
        await app.push_screen(screen)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await until(pilot, polled.is_set, "the first poll")
        await pilot.pause()
        text = screen_text(app)
        assert "Running step 1/1: Wait until timeout_rate < 0.02" in text  # not the raw id
        assert "polling: poll 2 of at most 5, every 15s, up to 60s" in text
        release.set()
        await idle(pilot, screen)
        record = screen.record
        assert record is not None and record.status == "failed"
        assert "not within 60s (5 polls)" in record.steps[0].output


async def test_a_run_that_cannot_start_is_one_notification(ctx: AppContext) -> None:
    app = make_app(ctx)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled(app, pilot)
        rb = load_runbook(
            Path(__file__).resolve().parents[2] / "runbooks" / "rollback-bad-deploy.yaml"
        )
        screen = RunnerScreen(rb, "gone:GET /nothing", app.env, poll_every=0)
        await app.push_screen(screen)
        await pilot.press("enter")
        await until(pilot, lambda: screen.activity is None and bool(app._notifications), "it")
        messages = [n.message for n in app._notifications]
        assert len(messages) == 1 and "no function 'gone:GET /nothing'" in messages[0]
        assert screen.record is None and "Enter: dry run" in screen_text(app)


async def test_the_runner_opens_while_the_store_is_slow_and_stopped_runs_follow(
    ctx: AppContext,
) -> None:
    runs = RunStore(ctx.store)
    stopped = runs.new(
        "rollback-bad-deploy", "", PAY, {}, [("confirm-symptom", "check")],
        dry_run=False, incident_id=None, environment="demo",
    )  # fmt: skip
    crashed(runs, stopped)
    real = ctx.store.query
    release, finished = threading.Event(), threading.Event()

    def slow_query(sql: str, params: Any = ()) -> Any:
        if "FROM runs ORDER BY" not in sql:
            return real(sql, params)
        release.wait(10)  # a slow disk; bounded so a regression fails instead of hanging
        try:
            return real(sql, params)
        finally:
            finished.set()

    ctx.store.query = slow_query  # type: ignore[method-assign]
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot)
        assert not finished.is_set()  # the screen did not wait for the store
        assert screen.resumable == [] and stopped.id not in screen_text(app)
        release.set()
        await until(pilot, lambda: [r.id for r in screen.resumable] == [stopped.id], "runs")
        await until(pilot, lambda: stopped.id in screen_text(app), "the stopped run shown")


async def test_opening_a_runner_parses_runbooks_off_the_ui_thread(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.engine.runbooks import catalog as runbook_catalog

    parsed_on: set[str] = set()
    real = runbook_catalog.load_runbook

    def spy(path: Any) -> Any:
        parsed_on.add(threading.current_thread().name)
        return real(path)

    # Building the fleet (before the console opens, as the CLI does) may read the catalog;
    # what matters is that opening a runner inside the running console does not.
    app = make_app(ctx)
    monkeypatch.setattr(runbook_catalog, "load_runbook", spy)
    monkeypatch.setattr(runbook_catalog, "_PARSED", {})
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        open_runner(app, HEALTHY, "rollback-bad-deploy", None)
        await until(pilot, lambda: runner_shown(app), "the runner")
        assert parsed_on and threading.main_thread().name not in parsed_on
