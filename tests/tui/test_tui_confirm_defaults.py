"""The runner's confirmation: what Enter does, outside production and in it (issue 13).

Outside production Enter approves the step the runbook marked ``confirm`` (the focus starts
on Confirm), and with no incident open on the function the same Enter opens one: the run is
then recorded in it. In production the focus stays on Cancel (Enter alone changes nothing)
and the incident is offered before the run, default yes, as before.
"""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Button

from console.context import AppContext
from console.core.model import FailureMode
from console.engine.incidents.lifecycle import list_incidents
from console.engine.runbooks.confirmation import ConfirmRequest
from console.tui.app import CallboardApp
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.dialogs.offer_incident import OfferIncidentScreen
from tests.tui.test_tui import screen_text
from tests.tui.test_tui_runner import (
    PAY,
    SIZE,
    dry_run,
    idle,
    make_app,
    modal,
    modes,
    runner_for,
    until,
)


def with_incidents(ctx: AppContext, *, production: bool = False) -> CallboardApp:
    """The app as ``callboard --demo --db FILE`` runs it: incidents on."""
    return make_app(ctx, production=production, incidents=True)


async def quiet(app: CallboardApp, pilot: Pilot[None]) -> None:
    """Let the incident writes and their reloads finish before the app closes."""
    await until(pilot, lambda: bool(app.incidents), "the incident reloaded")
    await app.workers.wait_for_complete()
    await pilot.pause()


def focused_id(app: CallboardApp) -> str | None:
    return app.focused.id if isinstance(app.focused, Button) else None


def label(app: CallboardApp, button: str) -> str:
    return str(app.screen.query_one(button, Button).label)


async def test_outside_production_enter_confirms_the_step(ctx: AppContext) -> None:
    app = make_app(ctx)  # no incidents: the plain confirmation
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await modal(pilot, app, ConfirmScreen)
        assert focused_id(app) == "confirm-ok"
        assert label(app, "#confirm-ok") == f"Confirm on {PAY}"  # it names the target
        assert not app.screen.query("#confirm-incident")
        await pilot.press("enter")
        await idle(pilot, screen)
        assert screen.record is not None and screen.record.status == "succeeded"
        assert FailureMode.F1 not in await modes(app, PAY)


async def test_in_production_enter_alone_cancels(ctx: AppContext) -> None:
    app = make_app(ctx, production=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await modal(pilot, app, ConfirmScreen)
        assert focused_id(app) == "confirm-cancel"
        assert label(app, "#confirm-ok") == f"Confirm on {PAY}"
        await pilot.press("enter")  # Enter alone presses Cancel: nothing changes
        await idle(pilot, screen)
        assert screen.record is not None and screen.record.status == "refused"
        assert FailureMode.F1 in await modes(app, PAY)


async def test_with_no_incident_open_the_same_enter_opens_one_and_the_run_joins_it(
    ctx: AppContext,
) -> None:
    app = with_incidents(ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot)
        assert "i opens one (the run joins it), or Enter in the confirmation" in screen_text(app)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await modal(pilot, app, ConfirmScreen)
        assert focused_id(app) == "confirm-incident"
        assert label(app, "#confirm-incident") == "Confirm + open an incident"
        assert f"Approve this step on {PAY} in demo" in screen_text(app)
        assert label(app, "#confirm-ok") == "Confirm only"
        await pilot.press("enter")
        await idle(pilot, screen)
        opened = list_incidents(ctx.store, active_only=True)
        assert [list(i.functions) for i in opened] == [[PAY]]
        record = screen.record
        assert record is not None and record.status == "succeeded"
        assert record.incident_id == opened[0].id
        await until(pilot, lambda: f"recorded in {opened[0].id}" in screen_text(app), "the summary")
        assert "i opens one" not in screen_text(app)
        await quiet(app, pilot)


async def test_refused_it_is_offered_again_and_confirm_only_runs_without_one(
    ctx: AppContext,
) -> None:
    app = with_incidents(ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await modal(pilot, app, ConfirmScreen)
        await pilot.press("escape")  # the step refused: nothing ran, no incident
        await idle(pilot, screen)
        assert screen.record is not None and screen.record.status == "refused"
        assert list_incidents(ctx.store, active_only=True) == []
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await modal(pilot, app, ConfirmScreen)
        assert focused_id(app) == "confirm-incident"  # offered again
        await pilot.click("#confirm-ok")  # "Confirm only"
        await idle(pilot, screen)
        assert screen.record is not None and screen.record.status == "succeeded"
        assert screen.record.incident_id is None
        assert list_incidents(ctx.store, active_only=True) == []


async def test_in_production_the_offer_comes_first_and_the_confirmation_keeps_cancel(
    ctx: AppContext,
) -> None:
    app = with_incidents(ctx, production=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await modal(pilot, app, OfferIncidentScreen)
        await pilot.press("n")  # run without one: the confirmation does not offer it again
        await modal(pilot, app, ConfirmScreen)
        assert not app.screen.query("#confirm-incident")
        assert focused_id(app) == "confirm-cancel"
        await pilot.press("escape")
        await idle(pilot, screen)
        assert screen.record is not None and screen.record.status == "refused"


async def test_at_80x24_every_button_of_the_offer_is_on_screen(ctx: AppContext) -> None:
    app = with_incidents(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await runner_for(app, pilot)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await modal(pilot, app, ConfirmScreen)
        await pilot.pause()
        for button in app.screen.query(Button):
            assert button.region.x >= 0 and button.region.right <= 80, button.id
            assert button.region.width >= len(str(button.label)), button.id
        assert focused_id(app) == "confirm-incident"


def test_the_help_says_what_enter_e_and_f_do_now() -> None:
    from console.tui.dialogs.help import KEYS

    keys = {(title, key): what for title, rows in KEYS for key, what in rows}
    runner = [what for title, rows in KEYS for key, what in rows if title == "Runbook runner"]
    assert "in a confirmation: Confirm (with no incident open: and open one)" in runner
    assert "in production, Cancel to Confirm" in keys[("Runbook runner", "tab")]
    assert "Markdown" in keys[("Incident timeline", "e")]
    assert "json" in keys[("Incident timeline", "E")]
    assert "it opens there" in keys[("Waterfall", "f")]


async def test_a_changed_plan_outside_production_opens_on_cancel(ctx: AppContext) -> None:
    req = ConfirmRequest(
        "run-1", "rollback", "Roll back", "action", PAY, "demo", False,
        "the plan changed since it was first shown", "v2.14.0 → v2.13.1", "v2.14.0 → v2.13.2",
    )  # fmt: skip
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(ConfirmScreen(req))
        await until(pilot, lambda: focused_id(app) is not None, "the focus")
        assert focused_id(app) == "confirm-cancel"
        assert label(app, "#confirm-ok") == f"Confirm the new plan on {PAY}"


async def test_an_incident_opened_elsewhere_takes_the_hint_away_at_once(ctx: AppContext) -> None:
    """The runner's "no incident open: i opens one" follows the app's incidents: opened by
    another screen or process, the hint goes without waiting for a run to end."""
    app = with_incidents(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await runner_for(app, pilot)
        assert "no incident open: i opens one" in screen_text(app)
        assert app.desk is not None
        await app.desk.write_incident(PAY, "pay is failing", "SEV2").wait()
        await until(pilot, lambda: "i opens one" not in screen_text(app), "the hint to go")
        await quiet(app, pilot)
