"""The console opened on a replay of a recorded incident (``replay_config``), as a drill on
last month's outage would open it: the incident's function is on fire with its finding as
recorded, the header says read-only, and the cure's dry run in the runner plans the action
without carrying it out while its verify reads the replayed moment. Then, past the recorded
rollback on the replay clock, the finding is gone."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from console.config import parse_config
from console.context import AppContext
from console.engine.fleet.build import build_fleet
from console.engine.replay import replay_config
from console.engine.store.sqlite import Store
from console.tui.app import CallboardApp
from tests.tui.test_tui import header, keys, screen_text, settled
from tests.tui.test_tui_runner import SIZE, dry_run, runner_for

OLD = Path(__file__).resolve().parents[1] / "stores" / "main-518581d"
PAY = "checkout:POST /pay"


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


async def test_the_console_on_a_replay_dry_runs_the_cure_against_the_replayed_moment(
    tmp_path: Path,
) -> None:
    recorded = tmp_path / "recorded.db"
    conn = sqlite3.connect(recorded)
    try:
        conn.executescript((OLD / "store.sql").read_text(encoding="utf-8"))
    finally:
        conn.close()
    store = Store(recorded)
    try:
        config = parse_config(replay_config(store, "INC-0001"), source="<replay>")
    finally:
        store.close()
    ctx = AppContext(db_path=str(tmp_path / "cb.db"), _config=config)
    clock = Clock(1_900_000_000.0)
    fleet = build_fleet(config, store=ctx.store, clock=clock)
    app = CallboardApp(fleet, refresh_interval=3600, context=ctx)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settled(app, pilot)
            assert keys(app) == [PAY]
            top = header(app)
            assert "replay-inc-0001" in top and "READ-ONLY" in top
            shown = app.shown
            assert shown is not None
            assert [f.mode.value for f in shown.by_id()[PAY].findings] == ["F1"]
            screen = await runner_for(app, pilot)
            await dry_run(pilot, screen)
            record = screen.record
            assert record is not None and record.status == "succeeded"
            text = screen_text(app)
            assert "replay: rollback checkout:POST /pay" in text
            assert "not carried out: a replay of INC-0001 changes nothing" in text
            assert "now F1 present" in text
            clock.t += 20.0  # past the recorded rollback (12 s in)
            await pilot.press("escape")
            await app.fleet.refresh()
            snap = await app.fleet.refresh()
            assert snap.by_id()[PAY].findings == ()
    finally:
        ctx.close()
