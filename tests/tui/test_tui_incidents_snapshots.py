"""Snapshots of the timeline screen at 80×24 and 140×45 (rows wrapped at words, relative
times), and of one event's detail at 80×24: the seeded demo fleet on a fixed clock.

Every event time is fixed: the incident and its notes are written with ``at=`` and the
recorder stamps events with the fleet's (fixed) clock. The actor is the store's ``actor``.
Regenerate after looking at the report:
``pytest tests/tui/test_tui_incidents_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from console.engine.incidents.lifecycle import add_note, open_incident
from console.engine.store.events import EventLog
from console.engine.store.sqlite import Store
from console.tui.app import CallboardApp
from console.tui.dialogs.event_detail import EventDetailScreen
from console.tui.screens.timeline import TimelineScreen
from tests.tui_helpers import demo_fleet

PAY = "checkout:POST /pay"


NOTE = (
    "pg pool exhausted since the deploy: connections held by the payment client's retry loop,"
    " rolling back to v2.13.2"
)


@pytest.mark.parametrize(
    ("size", "detail"), [((80, 24), False), ((140, 45), False), ((80, 24), True)],
    ids=["80x24", "140x45", "detail-80x24"],
)  # fmt: skip
def test_timeline_screen(
    snap_compare: Callable[..., bool],
    tmp_path: Path,
    size: tuple[int, int],
    detail: bool,
) -> None:
    store = Store(tmp_path / "callboard.db")
    store.actor = "oncall"  # the actor of recorded events (not $USER@host: the same everywhere)
    log = EventLog(store, actor="maya")
    open_incident(
        store, "Checkout times out", [PAY], "SEV2", at="2026-11-26T20:48:00.000Z", log=log
    )
    add_note(store, "INC-0001", NOTE, log=log,
             at="2026-11-26T20:52:30.000Z")  # fmt: skip
    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=store)

    def recorded() -> int:
        rows = store.query("SELECT count(*) AS n FROM events WHERE kind = 'finding.appeared'")
        return int(rows[0]["n"])

    async def before(pilot: Pilot[Any]) -> None:
        assert app._refresh is not None
        await app._refresh.wait()
        for _ in range(50):  # the recorder writes the refresh's findings, then the bar shows
            await app.workers.wait_for_complete()
            await pilot.pause()
            if recorded() and app.incidents:
                break
        assert recorded(), "the refresh was never recorded"
        await pilot.press("I")
        total = len(store.query("SELECT seq FROM events WHERE incident_id = 'INC-0001'"))
        for _ in range(50):  # the timeline shows every stored event
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen = app.screen
            if (
                isinstance(screen, TimelineScreen)
                and screen.pm
                and len(screen.pm.timeline) >= total
            ):
                break
        if detail:  # enter on the note: the whole event
            assert isinstance(screen, TimelineScreen)
            table = screen.query_one(DataTable)
            rows = [r.event.kind for r in screen.shown_rows()]
            table.move_cursor(row=rows.index("note"))
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, EventDetailScreen)

    assert snap_compare(app, terminal_size=size, run_before=before)
