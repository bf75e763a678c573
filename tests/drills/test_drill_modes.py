"""Done when: a drill on each of the ten failure modes can be completed and scored — the
shipped script of each mode finds the failure and cures it with the mode's shipped runbook,
and the scorecard's times are those of the event log (a simulated clock: no sleeps)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.context import AppContext
from console.core.timeline import epoch
from console.engine.drills.store import drill_events
from console.engine.incidents.lifecycle import get_incident, list_incidents
from console.engine.store.sqlite import Store
from console.plugin_api import FailureMode
from console.tui.drill_play import SimClock
from tests.drills.conftest import SCRIPTS, play_script, start

#: Mode → (the function that shows it, the shipped runbook its script runs).
CURES = {
    "F1": ("checkout:POST /pay", "rollback-bad-deploy"),
    "F2": ("inventory:rpc Reserve", "throttle-caller"),
    "F3": ("orders:worker reserve-stock", "retry-storm-throttle"),
    "F4": ("search:serverless query", "cold-start-scale-up"),
    "F5": ("cart:rpc GetCart", "partial-failure-drain"),
    "F6": ("notifications:worker email-send", "auth-rollback-secret"),
    "F7": ("reports:job nightly", "resource-scale-out"),
    "F8": ("profile:PUT /profile", "serialization-rollback"),
    "F9": ("payments:rpc Authorize", "dependency-circuit-open"),
    "F10": ("media:serverless resize-image", "cost-runaway-throttle"),
}


def script_keys(path: Path) -> int:
    """Keys the script presses (a ``type:`` line is one), the scorecard must count as many."""
    lines = [ln.split(" #")[0].strip() for ln in path.read_text().splitlines()]
    return sum(1 for ln in lines if ln and not ln.startswith(("#", "wait:")))


def test_every_mode_has_a_case() -> None:
    assert set(CURES) == {m.value for m in FailureMode}


@pytest.mark.parametrize("mode", list(CURES))
async def test_a_drill_on_each_mode_is_completed_and_scored(
    mode: str, ctx: AppContext, clock: SimClock
) -> None:
    fid, runbook = CURES[mode]
    session = start(ctx, clock, mode)
    script = SCRIPTS / f"{mode}.keys"
    app = await play_script(session, clock, script)
    card = app.card
    assert card is not None and card.modes == (mode,) and card.functions == {mode: fid}
    assert card.ended == "verified" and card.verified and card.wrong_moves == ()
    assert card.keys == script_keys(script)  # every key, the typed text once
    assert card.detect_s is not None and card.dry_run_s is not None
    assert card.mitigated_s is not None
    assert card.detect_s < card.dry_run_s < card.mitigated_s
    assert card.incident_opened == (mode != "F4")  # F4's runbook asks for no confirmation

    # the times are the event log's: the injection, the first screen, the runs
    events = drill_events(session.store)
    at = {e.kind: epoch(e.at) for e in reversed(events)}  # the first of each kind
    injected = at["drill.injected"]
    assert injected == session.started + session.plan.delay_s
    runs = [e for e in events if e.kind == "run.started"]
    assert [(e.data["runbook"], e.function_id, e.data["dry_run"]) for e in runs] == [
        (runbook, fid, True), (runbook, fid, False)]  # fmt: skip
    screens = [e for e in events if e.kind == "drill.screen" and e.function_id == fid]
    assert card.detect_s == pytest.approx(epoch(screens[0].at) - injected)  # type: ignore[operator]
    assert card.dry_run_s == pytest.approx(epoch(runs[0].at) - injected)  # type: ignore[operator]
    ended = [e for e in events if e.kind == "run.ended" and e.run_id == runs[1].run_id]
    assert ended[0].data["status"] == "succeeded"
    assert card.mitigated_s == pytest.approx(epoch(ended[0].at) - injected)  # type: ignore[operator]

    # the drill's record: its incident, kind drill, resolved, never listed with real ones
    store = session.store
    assert [i.id for i in list_incidents(store, kind="drill")] == [session.drill_id]
    assert session.drill_id not in [i.id for i in list_incidents(store)]
    assert get_incident(store, session.drill_id).kind == "drill"
    session.close()


async def test_a_seeded_drill_is_the_same_drill_again(tmp_path: Path) -> None:
    """``--seed``: the same mode and moment, so the same script scores the same."""
    from console.config import Config, OtlpConfig
    from console.engine.store.events import set_event_clock
    from tests.tui_helpers import T0

    cards = []
    for n in range(2):
        clock = SimClock(T0)
        was = set_event_clock(clock)
        ctx = AppContext(db_path=str(tmp_path / f"{n}" / "cb.db"),
                         _config=Config(otlp=OtlpConfig(enabled=False)))  # fmt: skip
        try:
            session = start(ctx, clock, "random", seed=11)
            mode = session.plan.modes[0]
            app = await play_script(session, clock, SCRIPTS / f"{mode}.keys")
            assert app.card is not None
            cards.append(app.card.to_json())
            session.close()
        finally:
            set_event_clock(was)
            ctx.close()
    assert cards[0] == cards[1] and cards[0]["verified"]


async def test_q_ends_the_drill_and_shows_the_scorecard(ctx: AppContext, clock: SimClock) -> None:
    session = start(ctx, clock, "F9")
    app = await play_script(
        session, clock, "wait: finding\nhome\nenter\nq\nwait: screen scorecard\n"
    )
    card = app.card
    assert card is not None and card.ended == "quit" and not card.verified
    assert card.detect_s is not None and card.mitigated_s is None and card.keys == 3
    # the drill store holds it, resolved; the console's own store saw nothing
    assert [i.status for i in list_incidents(session.store, kind="drill")] == ["resolved"]
    main = Store(str(ctx.db_path))
    assert list_incidents(main) == [] and list_incidents(main, kind="drill") == []
    main.close()
    session.close()


async def test_every_header_shows_the_drill_and_its_elapsed_time(
    ctx: AppContext, clock: SimClock
) -> None:
    from console.tui.widgets.status_bar import StatusBar
    from tests.drills.conftest import drill_app

    session = start(ctx, clock, "F5")
    app = drill_app(session, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "DRILL 0s" in str(app.screen.query_one(StatusBar).render())
        clock.advance(65)
        app.drill_tick()
        await pilot.pause()
        assert "DRILL 1m 05s" in str(app.screen.query_one(StatusBar).render())
        assert app.injected  # the failure began at 44 s (seed 3): recorded at that moment
        await pilot.press("q")
        await pilot.pause()
        assert "DRILL over: quit" in str(app.screen_stack[0].query_one(StatusBar).render())
    session.close()
