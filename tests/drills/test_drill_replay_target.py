"""What ``drill --replay`` asks of a recorded incident: the function each mode showed on,
first seen first (the replay backend itself is merged separately)."""

from __future__ import annotations

from pathlib import Path

from console.engine.drills.replay import replay_targets
from console.engine.incidents.lifecycle import open_incident, record_snapshot
from console.engine.store.sqlite import Store
from tests.tui_helpers import demo_fleet

PAY = "checkout:POST /pay"


async def test_the_targets_are_the_modes_recorded_on_the_incident(tmp_path: Path) -> None:
    store = Store(tmp_path / "cb.db")
    fleet = demo_fleet()
    try:
        snap = await fleet.refresh()
        inc = open_incident(store, "checkout times out", [PAY, "payments:rpc Authorize"])
        record_snapshot(store, snap)
        assert replay_targets(store, inc.id) == {"F1": PAY, "F9": "payments:rpc Authorize"}
        assert replay_targets(store, "INC-0404") == {}
    finally:
        await fleet.aclose()
        store.close()


def test_incidents_of_an_older_store_are_incidents_after_the_migration(tmp_path: Path) -> None:
    """The ``kind`` column arrives with its default: every earlier incident is a real one."""
    import sqlite3

    from console.engine.incidents.lifecycle import list_incidents
    from console.engine.store.sqlite import MIGRATIONS

    old = Path(__file__).parents[1] / "stores" / "main-518581d" / "store.sql"
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.executescript(old.read_text(encoding="utf-8"))
    conn.close()
    store = Store(db)
    try:
        listed = list_incidents(store)
        assert [i.id for i in listed] == ["INC-0002", "INC-0001"]
        assert {i.kind for i in listed} == {"incident"} and list_incidents(
            store, kind="drill"
        ) == []
        version = store.query("PRAGMA user_version")[0][0]
        assert version == len(MIGRATIONS)
    finally:
        store.close()
