"""Local first, team later: an incident recorded offline is pushed into the team store, its
events appended there in order (ids kept: pushing twice adds nothing), its runs and steps
copied, and the local chain's head recorded so the local file can be checked later."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from console.engine.incidents.export import export_incident, incident_events
from console.engine.incidents.lifecycle import add_note, open_incident
from console.engine.incidents.push import check_push, push_incident, safe_url
from console.engine.incidents.roles import assign
from console.engine.store.events import EventLog
from console.engine.store.sqlite import Store
from console.errors import UserError
from tests.team.conftest import PAY, ROLLBACK, cli, responder


def offline(tmp_path: Path) -> Path:
    """Maya's laptop store: an incident, a role, a note and a real run linked to it."""
    local = tmp_path / "laptop.db"
    maya = responder(tmp_path, "maya@laptop", "Maya Lee")
    for args in (
        ("incident", "open", "--title", "Pay timeouts", "--function", PAY, "--no-refresh"),
        ("incident", "assign", "INC-0001", "commander", "maya@laptop"),
        ("incident", "note", "INC-0001", "offline on the train", "--no-refresh"),
        ("run", ROLLBACK, "--function", PAY, "--yes"),
    ):
        done = cli(str(local), maya, *args)
        assert done.returncode == 0, done.stderr
    return local


def test_push_twice_duplicates_nothing_and_records_the_local_head(
    store_url: str, open_url: Callable[[str], Store], tmp_path: Path
) -> None:
    local_path = offline(tmp_path)
    maya = responder(tmp_path, "maya@laptop", "Maya Lee")
    team = open_url(store_url)
    open_incident(team, "Someone else's incident", ["cart:GET /cart"])  # the team's INC-0001
    first = cli(str(local_path), maya, "incident", "push", "INC-0001", "--to", store_url, "--json")
    assert first.returncode == 0, first.stderr
    pushed = json.loads(first.stdout)
    local = open_url(str(local_path))
    local_events = incident_events(local, "INC-0001")
    assert pushed["new_events"] == pushed["events"] == len(local_events)
    assert pushed["incident_id"] == "INC-0002"  # INC-0001 was taken there: the next free id
    head = local.tuples("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")[0]
    assert (pushed["source_head_seq"], pushed["source_head_hash"]) == tuple(head)

    there = incident_events(team, "INC-0002")
    # in order, ids, times, actors and data kept; re-chained there
    ours = [e for e in there if e.kind != "incident.pushed"]
    assert [(e.id, e.kind, e.at, e.actor, e.data) for e in ours] == [
        (e.id, e.kind, e.at, e.actor, e.data) for e in local_events
    ]
    assert EventLog(team).verify().ok
    marker = [e for e in there if e.kind == "incident.pushed"]
    assert len(marker) == 1 and marker[0].data["source_head_hash"] == head[1]
    assert marker[0].actor == "maya@laptop"
    runs = team.tuples("SELECT id, status, incident_id FROM runs")
    assert len(runs) == 1 and runs[0][1:] == ("succeeded", "INC-0002")
    steps_here = local.tuples("SELECT run_id, idx, status FROM steps ORDER BY idx")
    assert team.tuples("SELECT run_id, idx, status FROM steps ORDER BY idx") == steps_here
    row = team.tuples("SELECT source_incident, incident_id, source_head_hash, events FROM pushes")
    assert row == [("INC-0001", "INC-0002", head[1], len(local_events))]

    # twice: nothing added, the same incident found again by its opening event
    before = team.tuples("SELECT count(*) FROM events")[0][0]
    again = cli(str(local_path), maya, "incident", "push", "INC-0001", "--to", store_url)
    assert again.returncode == 0 and "nothing new" in again.stdout
    assert team.tuples("SELECT count(*) FROM events")[0][0] == before
    assert team.tuples("SELECT count(*) FROM pushes")[0][0] == 1
    assert team.tuples("SELECT count(*) FROM runs")[0][0] == 1

    # the export over there has the responders and the roles
    md = export_incident(team, "INC-0002", "md")
    assert "| Maya Lee (maya@laptop) | commander |" in md

    # new local events go over on the next push, after the first ones
    add_note(local, "INC-0001", "back online", log=EventLog(local, "maya@laptop"))
    third = push_incident(local, "INC-0001", team)
    assert (third.incident_id, third.new_events) == ("INC-0002", 1)
    assert team.tuples("SELECT count(*) FROM pushes")[0][0] == 2


def test_the_local_file_is_checked_against_what_was_pushed(
    store_url: str, open_url: Callable[[str], Store], tmp_path: Path
) -> None:
    local_path = offline(tmp_path)
    team = open_url(store_url)
    local = open_url(str(local_path))
    push_incident(local, "INC-0001", team)
    ok = cli(str(local_path), None, "incident", "push", "INC-0001", "--to", store_url, "--check")
    assert ok.returncode == 0, ok.stderr
    assert "matches its push" in ok.stdout
    local.close()
    # the local note is rewritten after the push (its row and hash, as a careful forger would)
    conn = sqlite3.connect(local_path)
    conn.execute("UPDATE events SET data = '{\"text\":\"nothing happened\"}' WHERE kind = 'note'")
    conn.commit()
    conn.close()
    bad = cli(str(local_path), None, "incident", "push", "INC-0001", "--to", store_url, "--check")
    assert bad.returncode == 1
    assert "does not verify" in bad.stderr and "differs in the target" in bad.stderr
    result = check_push(open_url(str(local_path)), "INC-0001", team)
    assert not result.ok and result.incident_id == "INC-0001"


def test_a_broken_local_chain_is_not_pushed(
    store_url: str, open_url: Callable[[str], Store], tmp_path: Path
) -> None:
    local_path = tmp_path / "laptop.db"
    local = open_url(str(local_path))
    open_incident(local, "t", [PAY])
    assign(local, "INC-0001", "commander", "maya@laptop")
    local.close()
    conn = sqlite3.connect(local_path)
    conn.execute("UPDATE events SET actor = 'mallory' WHERE kind = 'role.assigned'")
    conn.commit()
    conn.close()
    team = open_url(store_url)
    with pytest.raises(UserError, match="does not verify"):
        push_incident(open_url(str(local_path)), "INC-0001", team)
    assert team.tuples("SELECT count(*) FROM events")[0][0] == 0


def test_a_check_of_an_incident_never_pushed_says_so(
    store_url: str, open_url: Callable[[str], Store], tmp_path: Path
) -> None:
    local = open_url(str(tmp_path / "laptop.db"))
    open_incident(local, "t", [PAY])
    result = check_push(local, "INC-0001", open_url(store_url))
    assert not result.ok and "never pushed" in result.problems[0]


def test_the_target_url_is_shown_without_its_password() -> None:
    assert safe_url("postgresql://cb:hunter2@db:5432/cb") == "postgresql://cb:***@db:5432/cb"
    assert safe_url("/var/lib/callboard/team.db") == "/var/lib/callboard/team.db"
