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
