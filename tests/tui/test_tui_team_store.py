"""Pilot: the console on a PostgreSQL team store — an incident another responder opened is
on the bar, a note typed here lands in the team's chain, the export and the resolve work.

(Live updates from other consoles are tested with the live loop; here the console reads the
store as it does at each refresh.)
"""

from __future__ import annotations

from console import paths
from console.engine.incidents.export import incident_events
from console.engine.incidents.lifecycle import get_incident, open_incident
from console.engine.store.events import EventLog
from console.engine.store.postgres import PostgresStore
from console.tui.app import CallboardApp
from console.tui.dialogs.incident_dialogs import ConfirmStatusScreen, NoteScreen
from console.tui.screens.timeline import TimelineScreen
from tests.pg import APP_PASSWORD, TEMPLATE, PgCluster
from tests.tui.test_tui_incidents import PAY, SIZE, bar_text, table_rows, until
from tests.tui_helpers import demo_fleet


async def test_the_console_works_on_a_team_store(pg_cluster: PgCluster) -> None:
    url = pg_cluster.url(pg_cluster.create_db(TEMPLATE))
    other = PostgresStore(url, password=APP_PASSWORD)  # another responder's console
    mine = PostgresStore(url, password=APP_PASSWORD)
    try:
        open_incident(other, "Pay failing", [PAY], log=EventLog(other, actor="alice@laptop"))
        app = CallboardApp(demo_fleet(), refresh_interval=3600, store=mine)
        async with app.run_test(size=SIZE) as pilot:
            await until(app, pilot, lambda: "INC-0001" in bar_text(app))
            await pilot.press("I")
            await until(app, pilot, lambda: isinstance(app.screen, TimelineScreen))
            await pilot.press("n")
            await pilot.pause()
            assert isinstance(app.screen, NoteScreen)
            await pilot.press(*"paging the psp team", "enter")
            await until(app, pilot, lambda: isinstance(app.screen, TimelineScreen)
                        and any("paging the psp team" in r[4] for r in table_rows(app)))  # fmt: skip
            await pilot.press("e")  # a team store has no folder: exports go to the data dir
            path = paths.data_dir() / "exports" / "INC-0001-postmortem.md"
            await until(app, pilot, path.exists)
            assert "paging the psp team" in path.read_text(encoding="utf-8")
            await pilot.press("R")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmStatusScreen)
            await pilot.click("#status-ok")
            await until(app, pilot, lambda: get_incident(other, "INC-0001").status == "resolved")
        seen = [(e.kind, e.actor) for e in incident_events(other, "INC-0001")]
        assert seen[0] == ("incident.opened", "alice@laptop")
        assert ("note", EventLog(mine).actor) in seen
        assert EventLog(other).verify().ok
    finally:
        mine.close()
        other.close()
