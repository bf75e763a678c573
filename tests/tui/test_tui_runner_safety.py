"""Pilot tests of issue 10 in the console: a run joins the incident opened first, ``c``
stops a polling verify at once, ``u`` undoes a succeeded run, and a resumed plan that
changed shows the old and the new plan. Waits are events and bounded loops, never sleeps."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Button

from console.context import AppContext
from console.core.runbook import load_runbook
from console.engine.incidents.export import export_incident
from console.engine.runbooks.executor import Executor
from console.engine.runbooks.runs import RunStore
from console.engine.runbooks.steprunner import REPLANNED, ConfirmRequest
from console.engine.store.events import EventLog
from console.tui.dialogs.confirm import ConfirmScreen, confirm_text
from console.tui.screens.runner import RunnerScreen
from tests.tui.test_tui import settled
from tests.tui.test_tui_runner import SIZE, dry_run, idle, make_app, modal, until

PAY = "checkout:POST /pay"
AUTHORIZE = "payments:rpc Authorize"


async def test_incident_first_then_act_records_the_actions(ctx: AppContext) -> None:
    app = make_app(ctx)
    app.store = ctx.store  # the console records incidents where the runner records runs
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await pilot.press("enter")  # the worst function
        await until(pilot, lambda: type(app.screen).__name__ == "FunctionScreen", "function")
        await pilot.press("i")  # open an incident on it
        await until(pilot, lambda: type(app.screen).__name__ == "OpenIncidentScreen", "dialog")
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.incidents), "the incident")
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, RunnerScreen), "the runner")
        screen = app.screen
        assert isinstance(screen, RunnerScreen)
        screen.poll_every = 0
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await modal(pilot, app, ConfirmScreen)
        await pilot.press("enter")  # outside production the focus starts on Confirm
        await idle(pilot, screen)
        record = screen.record
        assert record is not None and not record.dry_run and record.status == "succeeded"
        assert record.incident_id == "INC-0001"
        kinds = [e.kind for e in EventLog(ctx.store).iter() if e.incident_id == "INC-0001"]
        assert "step.intent" in kinds and "step.confirmed" in kinds and "step.result" in kinds
        md = export_incident(ctx.store, "INC-0001", "md")
        assert "No actions were recorded" not in md


async def test_c_stops_a_polling_verify_at_once(ctx: AppContext, tmp_path: Path) -> None:
    rb_file = tmp_path / "wait.yaml"
    rb_file.write_text("""\
id: wait-for-timeouts
title: Wait for timeouts to recover (they will not)
steps:
  - {id: recover, kind: verify, signal: timeout_rate, op: "<", value: 0.02, within: 10m, every: 15s}
""")
    polled = asyncio.Event()

    async def forever(_: float) -> None:  # a 15 s wait that only a cancel ends
        polled.set()
        await asyncio.Event().wait()

    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        screen = RunnerScreen(load_runbook(rb_file), PAY, app.env, sleep=forever)
        await app.push_screen(screen)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await until(pilot, polled.is_set, "the first poll's wait")
        await pilot.press("c")
        await idle(pilot, screen)
        record = screen.record
        assert record is not None and record.status == "cancelled"
        assert record.steps[0].status == "cancelled"
        assert "cancelled during poll 1 of at most 41" in record.steps[0].output


async def test_u_undoes_a_succeeded_run_with_a_confirmation(ctx: AppContext) -> None:
    rb = load_runbook(Path(__file__).parents[2] / "runbooks" / "dependency-circuit-open.yaml")
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        screen = RunnerScreen(rb, AUTHORIZE, app.env, poll_every=0)
        await app.push_screen(screen)
        await until(pilot, lambda: bool(screen.query("#rb-steps")), "the runner")
        screen.form.input(0).value = "bank-gateway"
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await modal(pilot, app, ConfirmScreen)
        await pilot.press("enter")  # outside production the focus starts on Confirm
        await idle(pilot, screen)
        assert screen.record is not None and screen.record.status == "succeeded"
        assert screen.check_action("undo", ()) is True
        screen.query_one("#runner-body").focus()  # out of the param's input: keys are keys
        await pilot.press("u")
        await modal(pilot, app, ConfirmScreen)
        assert isinstance(app.screen, ConfirmScreen)
        assert "open → closed" in app.screen.request.detail
        await pilot.press("enter")
        await idle(pilot, screen)
        record = RunStore(ctx.store).get(screen.record.id)
        assert record is not None and record.status == "undone"
        undo = [s for s in record.steps if s.id == "open-circuit.undo"]
        assert undo and undo[0].status == "done"


def test_a_changed_plan_shows_before_and_now() -> None:
    req = ConfirmRequest(
        "r1", "rollback", "Roll back", "action", PAY, "demo", False, REPLANNED,
        "demo: roll back checkout from v2.13.2 to v2.13.1",
        "demo: roll back checkout from v2.14.0 to v2.13.2",
    )  # fmt: skip
    text = confirm_text(req).plain
    assert "The plan changed since it was first shown" in text
    before, now = text.index("Before"), text.index("Now: what it will do")
    assert "v2.14.0 to v2.13.2" in text[before:now] and "v2.13.2 to v2.13.1" in text[now:]


async def test_r_resumes_with_the_old_and_the_new_plan_when_it_changed(
    ctx: AppContext, tmp_path: Path
) -> None:
    rb_file = tmp_path / "plain.yaml"
    rb_file.write_text(
        "id: plain-rollback\ntitle: t\nsteps:\n"
        "  - {id: rollback, kind: action, action: rollback, confirm: true}\n"
    )
    rb = load_runbook(rb_file)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)

        async def answer(yes: bool) -> Executor:
            async def confirm(_: ConfirmRequest) -> bool:
                return yes

            return Executor(app.fleet, ctx.store, secret=str, confirm=confirm)

        first = await (await answer(False)).start(rb, PAY, {})  # refused: v2.14.0 → v2.13.2
        healed = await (await answer(True)).start(rb, PAY, {})  # someone else rolls back
        assert (first.status, healed.status) == ("refused", "succeeded")

        screen = RunnerScreen(rb, PAY, app.env, poll_every=0)
        await app.push_screen(screen)
        await until(pilot, lambda: bool(screen.resumable), "the stopped run")
        screen.query_one("#runner-body").focus()
        await pilot.press("R")
        await modal(pilot, app, ConfirmScreen)
        assert isinstance(app.screen, ConfirmScreen)
        req = app.screen.request
        assert req.changed and "v2.14.0 → v2.13.2" in req.previous
        assert "v2.13.2 → v2.13.1" in req.detail
        body = str(app.screen.query_one("#confirm-body").render())
        assert "The plan changed since it was first shown" in body
        ok = app.screen.query_one("#confirm-ok", Button)
        assert str(ok.label) == f"Confirm the new plan on {PAY}"
        await pilot.press("escape")  # not confirmed: nothing rolls back further
        await idle(pilot, screen)
        assert screen.record is not None and screen.record.status == "refused"
