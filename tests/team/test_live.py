"""Live together, under the console: ``Store.wait_for_change`` notices another process's
commit (not this connection's own) within its timeout, and the follower reads exactly the
events appended since it last looked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from console.core.events import note
from console.core.team import notice
from console.engine.incidents.lifecycle import open_incident
from console.engine.store.events import EventLog
from console.engine.store.follow import Follower
from console.engine.store.sqlite import Store
from tests.team.conftest import PAY, cli, responder


def test_another_processs_write_is_noticed_and_own_writes_are_not(
    store_url: str, open_url: Callable[[str], Store], tmp_path: Path
) -> None:
    store = open_url(store_url)
    open_incident(store, "t", [PAY])
    follower = Follower(store)
    assert follower.poll(0.2) == []  # nothing new: the wait ends at its timeout
    EventLog(store, "me@here").append(note("mine").on(incident_id="INC-0001"))
    if "://" not in store_url:  # SQLite: this connection's own commit leaves data_version
        assert not store.wait_for_change(0.2)
    assert [e.data["text"] for e in follower.read()] == ["mine"]
    maya = responder(tmp_path, "maya@laptop")
    done = cli(store_url, maya, "incident", "note", "INC-0001", "from maya", "--no-refresh")
    assert done.returncode == 0, done.stderr
    found = follower.poll(5.0)  # returns as soon as the change is seen
    assert [(e.kind, e.actor, e.data["text"]) for e in found] == [
        ("note", "maya@laptop", "from maya")
    ]
    assert notice(found[0]) == "maya@laptop added a note to INC-0001"
    assert follower.poll(0.2) == []  # read once


def test_a_notice_names_who_did_what_and_stays_quiet_for_the_rest() -> None:
    from console.core.events import Event

    def ev(kind: str, **data: object) -> Event:
        return Event(
            1, "x", "2026-01-01T00:00:00Z", kind, "ali@desk", "INC-0002", None, PAY, dict(data)
        )

    assert notice(ev("role.assigned", role="comms", who="maya")) == (
        "ali@desk made maya comms on INC-0002"
    )
    assert notice(ev("status.changed", to="mitigated")) == "ali@desk marked INC-0002 mitigated"
    assert notice(ev("run.started", runbook="rollback-bad-deploy")) == (
        f"ali@desk started rollback-bad-deploy on {PAY}"
    )
    assert notice(ev("step.intent")) is None and notice(ev("signals.sampled")) is None
    hostile = ev("role.assigned", role="ops", who="x\x1b[2Jy")
    assert "\x1b" not in (notice(hostile) or "")
