"""The runner's keys do what the footer says, and the next step is one key away.

Issue 13: after a run (or while a verify polls) the focus stayed in the param input, so
``c``/``u``/``q`` were typed into it; ``r`` and ``i`` did nothing on the traces, waterfall
and runner screens; a first real run without an incident offered none; required params
were not prefilled from the finding's evidence.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import cast

from rich.console import Console, RenderableType
from textual.widgets import Input, Static

from console.config import Config
from console.context import AppContext
from console.core.runbook import load_runbook
from console.engine.fleet.build import build_fleet
from console.engine.incidents.lifecycle import list_incidents
from console.engine.runbooks.confirmation import ConfirmRequest
from console.tui.app import CallboardApp
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.dialogs.incident_dialogs import OpenIncidentScreen
from console.tui.dialogs.offer_incident import OfferIncidentScreen
from console.tui.dialogs.pick_runbook import open_runner
from console.tui.screens.runner import RunnerScreen
from tests.tui.test_tui import screen_text, settled
from tests.tui.test_tui_runner import (
    AUTHORIZE,
    PAY,
    SIZE,
    dry_run,
    idle,
    make_app,
    runner_for,
    runner_shown,
    until,
)
from tests.tui_helpers import fixed_clock


def render_plain(renderable: object, width: int = 200) -> str:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(cast("RenderableType", renderable))
    return out.getvalue()


WAIT = """\
id: wait-for-timeouts
title: Wait for timeouts to recover (they will not)
params:
  note: {type: string, description: a required word}
steps:
  - {id: recover, kind: verify, signal: timeout_rate, op: "<", value: 0.02, within: 1m, every: 15s}
"""


async def test_keys_act_after_a_run_and_while_a_verify_polls(
    ctx: AppContext, tmp_path: Path
) -> None:
    rb_file = tmp_path / "wait.yaml"
    rb_file.write_text(WAIT)
    polled, release = asyncio.Event(), asyncio.Event()

    async def gated(_: float) -> None:
        polled.set()
        await release.wait()

    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        screen = RunnerScreen(load_runbook(rb_file), PAY, app.env, sleep=gated)
        await app.push_screen(screen)
        await pilot.pause()
        box = screen.query_one("#param-0", Input)
        assert app.focused is box  # the required param: typing goes there first
        await pilot.press(*"oops")
        await dry_run(pilot, screen)
        assert not isinstance(app.focused, Input)  # the run ended: keys are keys again
        await pilot.press("u", "c")
        assert box.value == "oops"
        await pilot.press("enter")  # the footer says: run for real
        await until(pilot, polled.is_set, "the first poll")
        assert not isinstance(app.focused, Input)
        await pilot.press("c")  # cancel, while the verify waits
        await idle(pilot, screen)
        assert screen.record is not None and screen.record.status == "cancelled"
        assert box.value == "oops"
        release.set()


async def test_steps_are_titled_by_what_they_do_not_by_their_ids(ctx: AppContext) -> None:
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        open_runner(app, AUTHORIZE, "dependency-circuit-open", None)
        await until(pilot, lambda: runner_shown(app), "the runner")
        screen = app.screen
        assert isinstance(screen, RunnerScreen)
        steps = screen.query_one("#rb-steps", Static)
        text = render_plain(steps.content)
        names = [line.split()[2] for line in text.splitlines()[1:] if line.split()[:1] == ["·"]]
        # The untitled notes read as what they say, never as "announce"/"communicate".
        assert "announce" not in names and "communicate" not in names
        assert "Note: @payments: {{ dependency }} is failing calls" in text  # owner filled
        assert f"Note: Circuit {AUTHORIZE} →" in text
        assert "Open the circuit to the failing dependency" in text


async def test_the_confirmation_title_does_not_say_confirm_twice(ctx: AppContext) -> None:
    req = ConfirmRequest(
        "run-1", "credential-rotated", "Confirm a credential was rotated recently", "manual",
        PAY, "prod-eu", True, "a manual step", "",
    )  # fmt: skip
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await app.push_screen(ConfirmScreen(req))
        await pilot.pause()
        title = render_plain(app.screen.query_one("#confirm-title", Static).content)
        assert "Confirm: Confirm" not in title
        assert f"on {PAY} in PRODUCTION prod-eu" in title
        assert "Confirm a credential was rotated recently" in screen_text(app)


def incidents_app(ctx: AppContext, *, production: bool) -> CallboardApp:
    fleet = build_fleet(Config(), store=ctx.store, demo=True, clock=fixed_clock)
    if production:
        fleet.environment, fleet.production = "prod-eu", True
    return CallboardApp(fleet, refresh_interval=3600, context=ctx, store=ctx.store)


async def test_first_real_run_offers_an_incident_and_enter_opens_it_in_production(
    ctx: AppContext,
) -> None:
    app = incidents_app(ctx, production=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, OfferIncidentScreen), "the offer")
        assert f"No incident is open on {PAY}" in screen_text(app)
        assert app.focused is not None and app.focused.id == "offer-open"  # default: yes
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the step's question")
        opened = list_incidents(ctx.store, active_only=True)
        assert [list(i.functions) for i in opened] == [[PAY]]
        await pilot.press("tab", "enter")
        await idle(pilot, screen)
        assert screen.record is not None and screen.record.incident_id == opened[0].id


async def test_n_runs_without_an_incident_and_is_not_asked_again(ctx: AppContext) -> None:
    app = incidents_app(ctx, production=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, OfferIncidentScreen), "the offer")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the step's question")
        await pilot.press("escape")  # refuse the step: the run stops
        await idle(pilot, screen)
        assert screen.record is not None and screen.record.incident_id is None
        assert list_incidents(ctx.store, active_only=True) == []
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "no offer this time")


async def test_outside_production_the_summary_says_i_opens_one_and_nothing_blocks(
    ctx: AppContext,
) -> None:
    app = incidents_app(ctx, production=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot)
        assert "no incident open: i opens one (the run joins it)" in screen_text(app)
        await dry_run(pilot, screen)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the step's question")


async def test_i_in_the_runner_opens_an_incident_on_its_function(ctx: AppContext) -> None:
    app = incidents_app(ctx, production=False)
    async with app.run_test(size=SIZE) as pilot:
        await runner_for(app, pilot)
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, OpenIncidentScreen), "the dialog")
        assert app.screen.function_id == PAY  # type: ignore[attr-defined]


async def test_the_f9_runbook_opens_with_the_dependency_from_the_evidence(
    ctx: AppContext,
) -> None:
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot, AUTHORIZE)  # F9: calls to bank-gateway fail
        assert screen.runbook.id == "dependency-circuit-open"
        box = screen.query_one("#param-0", Input)
        assert box.value == "bank-gateway"  # prefilled from the finding, not empty
        assert app.focused is not box  # nothing is missing: Enter dry-runs at once
        assert "from evidence.dependency" in screen_text(app)
        await dry_run(pilot, screen)
        assert screen.record is not None and screen.record.params == {"dependency": "bank-gateway"}


async def test_at_80x24_the_runner_shows_the_plan_first(ctx: AppContext) -> None:
    app = make_app(ctx)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await runner_for(app, pilot, AUTHORIZE)
        steps = screen.query_one("#rb-steps", Static)
        summary = screen.query_one("#rb-summary", Static)
        footer_y = 23
        assert summary.region.y < steps.region.y
        assert steps.region.y + 2 < footer_y  # the header and the first step are on screen
        assert screen.query_one("#rb-params").region.y > steps.region.y  # params follow
