"""Who did what: every event carries its actor (``me:`` in the config, else ``$USER@host``);
two responders in two processes on one incident both show in ``incident show`` and every
export, with the roles assigned and changed (each change an event)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from console.config import load_config
from console.engine.incidents.export import export_incident
from console.engine.incidents.roles import RoleRefused, assign, roles, unassign
from console.engine.store.events import EventLog, current_actor
from console.engine.store.sqlite import Store
from console.errors import ConfigErrors, UserError
from tests.team.conftest import PAY, cli, responder


def two_responders(store_url: str, tmp_path: Path) -> tuple[Path, Path]:
    """Maya opens INC-0001 and is commander; Ali, in his own process, notes and takes comms;
    then the command passes to Ali."""
    maya = responder(tmp_path, "maya@laptop", "Maya Lee")
    ali = responder(tmp_path, "ali@desk")
    steps = [
        (maya, ("incident", "open", "--title", "Pay timeouts", "--function", PAY, "--no-refresh")),
        (maya, ("incident", "assign", "INC-0001", "commander", "maya@laptop")),
        (ali, ("incident", "note", "INC-0001", "psp p99 at 5s", "--no-refresh")),
        (ali, ("incident", "assign", "INC-0001", "comms", "ali@desk")),
        (maya, ("incident", "assign", "INC-0001", "Commander", "ali@desk")),
    ]
    for who, args in steps:
        done = cli(store_url, who, *args)
        assert done.returncode == 0, done.stderr
    return maya, ali


def test_two_processes_two_actors_one_incident_both_in_every_export(
    store_url: str, open_url: Callable[[str], Store], tmp_path: Path
) -> None:
    maya, _ = two_responders(store_url, tmp_path)
    store = open_url(store_url)
    actors = [(e.kind, e.actor) for e in EventLog(store).iter()]
    assert actors == [
        ("incident.opened", "maya@laptop"),
        ("role.assigned", "maya@laptop"),
        ("note", "ali@desk"),
        ("role.assigned", "ali@desk"),
        ("role.assigned", "maya@laptop"),
    ]
    assert EventLog(store).verify().ok
    md = export_incident(store, "INC-0001", "md")
    assert "## Responders" in md
    assert "| Maya Lee (maya@laptop) | — | 3 |" in md  # named, no role any more, 3 events
    assert "| ali@desk | commander, comms | 2 |" in md
    assert "| note | ali@desk |" in md  # who did each thing, on the timeline
    doc = json.loads(export_incident(store, "INC-0001", "json"))
    assert doc["team"]["roles"] == {"commander": "ali@desk", "comms": "ali@desk"}
    people = {r["actor"]: r for r in doc["team"]["responders"]}
    assert people["maya@laptop"]["name"] == "Maya Lee" and people["ali@desk"]["events"] == 2
    assert {e["actor"] for e in doc["events"]} == {"maya@laptop", "ali@desk"}
    html = export_incident(store, "INC-0001", "html")
    assert "<h2>Responders</h2>" in html and "Maya Lee (maya@laptop)" in html
    shown = cli(store_url, maya, "incident", "show", "INC-0001")
    assert "roles: commander ali@desk · comms ali@desk" in shown.stdout
    assert "responders: Maya Lee (maya@laptop), ali@desk" in shown.stdout
    assert any("note" in line and "ali@desk" in line for line in shown.stdout.splitlines())


def test_each_role_change_is_an_event_naming_who_held_it_before(
    store_url: str, open_url: Callable[[str], Store], tmp_path: Path
) -> None:
    maya, _ = two_responders(store_url, tmp_path)
    store = open_url(store_url)
    changes = [e.data for e in EventLog(store).iter() if e.kind.startswith("role.")]
    assert changes == [
        {"role": "commander", "who": "maya@laptop"},
        {"role": "comms", "who": "ali@desk"},
        {"role": "commander", "who": "ali@desk", "was": "maya@laptop"},
    ]
    done = cli(store_url, maya, "incident", "unassign", "INC-0001", "comms")
    assert done.returncode == 0 and "unassigned (was ali@desk)" in done.stdout
    assert roles(store, "INC-0001") == {"commander": "ali@desk"}
    # assigning the holder again writes nothing
    before = len(list(EventLog(store).iter()))
    assert assign(store, "INC-0001", "commander", "ali@desk")[2] == "ali@desk"
    assert len(list(EventLog(store).iter())) == before


def test_bad_roles_and_read_only_are_refused(
    store_url: str, open_url: Callable[[str], Store], tmp_path: Path
) -> None:
    maya, _ = two_responders(store_url, tmp_path)
    store = open_url(store_url)
    for bad in ("", "Ops Team", "x" * 40, "rm -rf", "\x1b[2J"):
        with pytest.raises(UserError):
            assign(store, "INC-0001", bad, "ali@desk")
    with pytest.raises(RoleRefused):
        assign(store, "INC-0001", "ops", "ali@desk", read_only=True)
    with pytest.raises(UserError, match="nobody holds ops"):
        unassign(store, "INC-0001", "ops")
    done = cli(store_url, maya, "--read-only", "incident", "assign", "INC-0001", "ops", "ali")
    assert done.returncode == 3 and "read-only" in done.stderr
    assert "ops" not in roles(store, "INC-0001")


def test_a_hostile_handle_is_cleaned_before_it_is_recorded(
    store_url: str, open_url: Callable[[str], Store]
) -> None:
    from console.engine.incidents.lifecycle import open_incident

    store = open_url(store_url)
    open_incident(store, "t", [PAY])
    assign(store, "INC-0001", "ops", "ev\x1b]52;c;aGk=\x07il\x9b2J@host")
    assert roles(store, "INC-0001") == {"ops": "evil@host"}


def test_me_is_declared_in_the_config_with_file_line_errors(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("me: {handle: maya@laptop, name: Maya Lee}\n")
    assert (load_config(good).me.handle, load_config(good).me.name) == ("maya@laptop", "Maya Lee")
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text('me: {handle: "maya\\e[2J@laptop"}\n')
    assert load_config(hostile).me.handle == "maya@laptop"
    bad = tmp_path / "bad.yaml"
    bad.write_text("environment: {name: demo}\nme:\n  handle: two words\n  nick: m\n")
    with pytest.raises(ConfigErrors) as caught:
        load_config(bad)
    text = str(caught.value)
    assert f"{bad}:3: me.handle: expected a short handle" in text
    assert f"{bad}:4: me.nick: unknown key" in text
    done = cli(str(tmp_path / "x.db"), bad, "incident", "list")
    assert done.returncode == 2 and f"{bad}:3" in done.stderr and "Traceback" not in done.stderr


def test_without_me_the_actor_is_user_at_host(
    store_url: str, open_url: Callable[[str], Store]
) -> None:
    from console.engine.incidents.lifecycle import add_note, open_incident

    store = open_url(store_url)
    open_incident(store, "t", [PAY])
    add_note(store, "INC-0001", "hello")
    user, _, host = current_actor().partition("@")
    assert user and host
    assert {e.actor for e in EventLog(store).iter()} == {current_actor()}
