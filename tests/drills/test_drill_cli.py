"""``callboard drill`` as a user meets it: the README's 3 a.m. drill measured headless, the
list of past drills with trends per person, the drill's export, and its bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.cli import main
from tests.drills.conftest import SCRIPTS

#: The README's "At 3 a.m." budget (issue 13): 16 keys at 140×45.
MAX_KEYS = 16


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def test_the_3am_drill_is_measured_by_its_shipped_script(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "cb.db")
    script = str(SCRIPTS / "3am.keys")
    rc, out, err = run(["--db", db, "drill", "--headless", "--script", script,
                        "--scenario", "F1", "--seed", "3", "--actor", "maya"], capsys)  # fmt: skip
    assert rc == 0, err
    card = json.loads(out)
    assert card["verified"] and card["ended"] == "verified"
    assert card["keys"] <= MAX_KEYS, card
    assert card["functions"] == {"F1": "checkout:POST /pay"} and card["wrong_moves"] == []
    assert card["incident_opened"] and card["notes"] == 1  # the run joined INC-0001; noted
    assert card["detect_s"] < card["dry_run_s"] < card["mitigated_s"]

    # a second drill by someone else, then the list: both, and the trends per person
    rc, out, err = run(["--db", db, "drill", "--headless", "--script", str(SCRIPTS / "F5.keys"),
                        "--scenario", "F5", "--actor", "kim"], capsys)  # fmt: skip
    assert rc == 0, err
    rc, out, _ = run(["--db", db, "drill", "--list", "--json"], capsys)
    listed = json.loads(out)
    assert [d["drill"] for d in listed["drills"]] == ["DRILL-0001", "DRILL-0002"]
    assert [(p["actor"], p["drills"], p["verified"]) for p in listed["people"]] == [
        ("kim", 1, 1), ("maya", 1, 1)]  # fmt: skip
    rc, out, _ = run(["--db", db, "drill", "--list"], capsys)
    assert "DRILL-0002" in out and "kim: 1 drills, 1 verified" in out

    # its record exports with the scorecard; real incidents never list it
    rc, out, _ = run(["--db", db, "export", "DRILL-0001", "--format", "json"], capsys)
    assert rc == 0
    exported = json.loads(out)
    ended = [e for e in exported["events"] if e["kind"] == "drill.ended"]
    assert ended and ended[0]["data"]["scorecard"]["keys"] == card["keys"]
    rc, out, _ = run(["--db", db, "export", "DRILL-0001"], capsys)
    assert "Drill ended (verified): detected" in out
    rc, out, _ = run(["--db", db, "incident", "list"], capsys)
    assert out.strip() == "no incidents"
    rc, out, _ = run(["--db", db, "incident", "list", "--drills", "--json"], capsys)
    drills = json.loads(out)["incidents"]
    assert [(i["id"], i["status"]) for i in drills] == [
        ("DRILL-0002", "resolved"), ("DRILL-0001", "resolved")]  # fmt: skip


def test_bad_inputs_say_what_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "cb.db")
    bad = tmp_path / "bad.keys"
    bad.write_text("enter\nwait: forever\n")
    rc, _, err = run(["--db", db, "drill", "--headless", "--script", str(bad)], capsys)
    assert rc == 2 and f"{bad}:2: wait: expected finding" in err
    rc, _, err = run(["--db", db, "drill", "--scenario", "F11", "--headless", "--script",
                      str(SCRIPTS / "F1.keys")], capsys)  # fmt: skip
    assert rc == 2 and "F11 cannot be drilled here" in err
    rc, _, err = run(["--db", db, "drill", "--replay", "INC-0001"], capsys)
    assert rc == 2 and "no incident 'INC-0001'" in err  # nothing recorded to replay
    rc, _, err = run(["--db", db, "drill", "--headless"], capsys)
    assert rc == 2 and "--headless and --script FILE go together" in err
    rc, _, err = run(["--db", db, "export", "DRILL-0042"], capsys)
    assert rc == 2 and "no drill 'DRILL-0042'" in err
    assert not (tmp_path / "drills").exists() or not list((tmp_path / "drills").glob("*.db"))
