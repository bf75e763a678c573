"""The console on a shared store: another process's note appears by itself with a quiet
notification naming who wrote it; roles are assigned with ``A`` and shown in the header;
the runner shows another responder's lease instead of failing, and takes over a stale one
only after asking."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from console.config import Config, OtlpConfig
from console.context import AppContext
from console.engine.incidents.lifecycle import open_incident
from console.engine.runbooks.leases import EXPIRY_S, Leases
from console.engine.store.events import EventLog
from console.tui.app import CallboardApp
from console.tui.dialogs.confirm import ConfirmScreen
from console.tui.dialogs.lease_dialog import TakeOverScreen
from console.tui.dialogs.role_dialog import RoleScreen
from console.tui.screens.timeline import TimelineScreen
from tests.team.conftest import PAY, ROLLBACK, responder
from tests.tui.test_tui import screen_text
from tests.tui.test_tui_incidents import table_rows
from tests.tui.test_tui_runner import make_app, runner_for
from tests.tui_helpers import demo_fleet

SIZE = (140, 45)


@pytest.fixture
def ctx(store_url: str) -> Iterator[AppContext]:
    """The demo on the team store, as ``me: {handle: you@console}``, no OTLP receiver."""
    from console.config_model import MeConfig

    config = Config(otlp=OtlpConfig(enabled=False), me=MeConfig(handle="you@console"))
    context = AppContext(db_path=store_url, demo=True, _config=config)
    yield context
    context.close()


async def until(
    pilot: Pilot[None], ready: Callable[[], bool], what: str, rounds: int = 400
) -> None:
    """Pause until ``ready()``; bounded (a hang fails). Each round lets messages run, and a
    store follower's poll (150 ms) is what the live tests wait on, so rounds are 50 ms."""
    for _ in range(rounds):
        if ready():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def notes_shown(app: CallboardApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def timeline_text(app: CallboardApp) -> str:
    if not isinstance(app.screen, TimelineScreen) or not app.screen.is_mounted:
        return ""
    return "\n".join(" ".join(r) for r in table_rows(app))


async def test_a_console_sees_another_processs_note_with_who_wrote_it(
    ctx: AppContext, tmp_path: Path
) -> None:
    store = ctx.store
    open_incident(store, "Checkout times out", [PAY], "SEV2", log=EventLog(store, "you@console"))
    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=store, context=ctx)
    maya = responder(tmp_path, "maya@laptop", "Maya Lee")
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(TimelineScreen("INC-0001"))
        await until(pilot, lambda: "Incident opened" in timeline_text(app), "the timeline")
        assert app.watcher is not None and app.watcher.running
        # a second responder, another OS process, writes to the same store
        cmd = [sys.executable, "-m", "console.cli", "--db", str(ctx.db_path), "--config",
               str(maya), "incident", "note", "INC-0001", "psp latency from maya", "--no-refresh"]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        await until(pilot, lambda: "psp latency from maya" in timeline_text(app), "the note")
        row = next(r for r in table_rows(app) if "psp latency" in r[-1])
        assert "maya@laptop" in "".join(row).replace("\n", "")  # who wrote it, on its row
        said = "maya@laptop added a note to INC-0001"
        await until(pilot, lambda: said in notes_shown(app), "the notification")
        # this console's own writes refresh but never notify
        before = len(notes_shown(app))
        await pilot.press("n")
        await until(pilot, lambda: bool(app.screen.query("#note-text")), "the note dialog")
        app.screen.query_one("#note-text", Input).value = "my own note"
        await pilot.press("enter")
        await until(pilot, lambda: "my own note" in timeline_text(app), "my note")
        assert not any("you@console" in n for n in notes_shown(app)[before:])


async def test_roles_are_assigned_from_the_timeline_and_shown_in_its_header(
    ctx: AppContext,
) -> None:
    store = ctx.store
    open_incident(store, "Checkout times out", [PAY], "SEV2")
    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=store, context=ctx)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(TimelineScreen("INC-0001"))
        await until(pilot, lambda: "Incident opened" in timeline_text(app), "the timeline")
        info = lambda: str(app.screen.query_one("#timeline-info", Static).render())  # noqa: E731
        assert "roles" not in info()  # none yet
        shown = {
            b.binding.description for b in app.screen.active_bindings.values() if b.binding.show
        }
        assert "Roles" in shown  # the footer names the key
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, RoleScreen), "the role dialog")
        # commander is proposed, for whoever sits here
        assert app.screen.query_one("#role-name", Input).value == "commander"
        assert app.screen.query_one("#role-who", Input).value == "you@console"
        await pilot.press("enter")
        await until(pilot, lambda: "commander you@console" in info(), "the header")
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, RoleScreen), "the role dialog")
        app.screen.query_one("#role-name", Input).value = "comms"
        app.screen.query_one("#role-who", Input).value = "ali@desk"
        await pilot.press("enter")
        await until(pilot, lambda: "comms ali@desk" in info(), "the second role")
        assert "Role comms: ali@desk" in timeline_text(app)
        # a role name that is not one (markup, escapes) is refused in the dialog, app up
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, RoleScreen), "the role dialog")
        app.screen.query_one("#role-name", Input).value = "[/x] \x1b[2Jops"
        await pilot.press("enter")
        await until(pilot, lambda: any("use a name such as" in n for n in notes_shown(app)),
                    "the refusal")  # fmt: skip
        assert isinstance(app.screen, RoleScreen)
        await pilot.press("escape")
    kinds = [(e.kind, e.actor) for e in EventLog(store).iter() if e.kind.startswith("role.")]
    assert kinds == [("role.assigned", "you@console"), ("role.assigned", "you@console")]


async def test_read_only_refuses_roles_in_the_console(ctx: AppContext) -> None:
    store = ctx.store
    open_incident(store, "Checkout times out", [PAY], "SEV2")
    fleet = demo_fleet()
    fleet.read_only = True
    app = CallboardApp(fleet, refresh_interval=3600, store=store, context=ctx)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(TimelineScreen("INC-0001"))
        await until(pilot, lambda: "Incident opened" in timeline_text(app), "the timeline")
        await pilot.press("A")
        await until(pilot, lambda: any("Read-only" in n for n in notes_shown(app)), "refusal")
        assert not isinstance(app.screen, RoleScreen)
    assert not [e for e in EventLog(store).iter() if e.kind.startswith("role.")]


async def test_the_runner_shows_another_responders_lease_and_does_not_run(
    ctx: AppContext,
) -> None:
    held = Leases(ctx.store, holder="alice@laptop").acquire(PAY, "1fce2a3b4c5d", ROLLBACK)
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot)
        await pilot.press("enter")  # the dry run is never blocked
        await until(pilot, lambda: screen.activity is None and screen.record is not None, "dry")
        assert screen.record is not None and screen.record.status == "succeeded"
        await pilot.press("enter")  # the real run: alice's run holds the function
        await until(pilot, lambda: screen.lease_note is not None, "the refusal")
        text = screen_text(app)
        assert "alice@laptop is running rollback-bad-deploy on checkout:POST /pay" in text
        assert not isinstance(app.screen, TakeOverScreen)  # a live lease: no takeover offered
        assert screen.activity is None  # the runner is idle, the app up
    assert Leases(ctx.store).get(PAY) == held
    assert ctx.store.tuples("SELECT count(*) FROM runs WHERE dry_run = 0")[0][0] == 0


async def test_the_runner_takes_over_a_stale_lease_only_after_asking(ctx: AppContext) -> None:
    long_ago = time.time() - 10 * EXPIRY_S
    Leases(ctx.store, holder="alice@laptop", clock=lambda: long_ago).acquire(
        PAY, "1fce2a3b4c5d", ROLLBACK
    )
    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        screen = await runner_for(app, pilot)
        await pilot.press("enter")
        await until(pilot, lambda: screen.activity is None and screen.record is not None, "dry")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TakeOverScreen), "the question")
        await pilot.press("tab", "enter")  # the focus starts on Cancel: Take over is next
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("enter")
        await until(
            pilot,
            lambda: screen.record is not None and screen.record.status == "succeeded",
            "the run",
        )
    over = [e for e in EventLog(ctx.store).iter() if e.kind == "lease.taken_over"]
    assert len(over) == 1
    assert (over[0].data["holder"], over[0].data["previous"]) == ("you@console", "alice@laptop")
