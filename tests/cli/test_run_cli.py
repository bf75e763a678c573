"""``callboard run`` and ``callboard runs``: exit codes, the --json contract, resume, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.cli import main

PAY = "checkout:POST /pay"


def cb(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(db), *args])
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cb.db"


def test_json_contract_of_a_dry_run(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    code, out, _ = cb(
        capsys, db, "run", "rollback-bad-deploy", "--function", PAY, "--dry-run", "--json"
    )
    assert code == 0
    doc = json.loads(out)
    assert {"run_id", "runbook", "function", "dry_run", "status", "steps"} <= set(doc)
    assert (doc["runbook"], doc["function"], doc["dry_run"], doc["status"]) == (
        "rollback-bad-deploy",
        PAY,
        True,
        "succeeded",
    )
    step = doc["steps"][2]
    assert set(step) == {"id", "kind", "status", "output", "started", "ended"}
    assert (step["id"], step["kind"], step["status"]) == ("rollback", "action", "planned")
    assert "v2.14.0 → v2.13.2" in step["output"]


def test_confirmation_not_given_exits_3_and_yes_names_the_target(
    capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    code, out, err = cb(capsys, db, "run", "rollback-bad-deploy", "--function", PAY, "--json")
    assert code == 3 and json.loads(out)["status"] == "refused"
    assert "pass --yes" in err
    code, out, err = cb(
        capsys, db, "run", "rollback-bad-deploy", "--function", PAY, "--yes", "--json"
    )
    assert code == 0 and json.loads(out)["status"] == "succeeded"
    assert f"confirmed by --yes: Roll back the service's latest deploy on {PAY} in demo" in err


def test_read_only_flag_and_env_refuse_with_exit_3(
    capsys: pytest.CaptureFixture[str], db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cb(
        capsys,
        db,
        "--read-only",
        "run",
        "rollback-bad-deploy",
        "--function",
        PAY,
        "--yes",
        "--json",
    )
    assert code == 3
    steps = {s["id"]: s["status"] for s in json.loads(out)["steps"]}
    assert steps["confirm-symptom"] == "done" and steps["rollback"] == "refused"
    monkeypatch.setenv("CALLBOARD_READ_ONLY", "1")
    code, _, _ = cb(capsys, db, "run", "rollback-bad-deploy", "--function", PAY, "--yes")
    assert code == 3


def test_a_failing_step_exits_1(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    rb = tmp_path / "fail.yaml"
    rb.write_text("id: fail\ntitle: f\nsteps:\n  - {id: nope, kind: command, command: ['false']}\n")
    code, out, _ = cb(capsys, db, "run", str(rb), "--function", PAY, "--json")
    assert code == 1
    doc = json.loads(out)
    assert doc["status"] == "failed" and doc["steps"][0]["status"] == "failed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-runbook", "--function", PAY], "no runbook 'no-such-runbook'"),
        (["rollback-bad-deploy", "--function", "nope:op"], "no function 'nope:op'"),
        (
            ["throttle-caller", "--function", PAY, "--param", "rps=fast"],
            "param rps: expected a number",
        ),
        (["throttle-caller", "--function", PAY, "--param", "rps"], "--param expects KEY=VALUE"),
        (
            ["throttle-caller", "--function", PAY, "--param", "caller=x", "--param", "rps=inf"],
            "param rps: expected a finite number, got 'inf'",
        ),
        (
            ["throttle-caller", "--function", PAY, "--param", "caller=x", "--param", "rps=nan"],
            "param rps: expected a finite number, got 'nan'",
        ),
        (["rollback-bad-deploy"], "usage: callboard run RUNBOOK --function ID"),
        (["--resume", "nope"], "no run 'nope'"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    capsys: pytest.CaptureFixture[str], db: Path, args: list[str], message: str
) -> None:
    code, _, err = cb(capsys, db, "run", *args)
    assert code == 2
    assert message in err and "Traceback" not in err


def test_an_invalid_runbook_file_exits_2_with_file_and_line(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    rb = tmp_path / "bad.yaml"
    rb.write_text("id: bad\ntitle: b\nsteps:\n  - {id: a, kind: note, txt: hi}\n")
    code, _, err = cb(capsys, db, "run", str(rb), "--function", PAY)
    assert code == 2
    assert f"{rb}:4: steps[0].txt: unknown key (did you mean 'text'?)" in err


def test_runs_lists_runs_as_json(capsys: pytest.CaptureFixture[str], db: Path) -> None:
    cb(capsys, db, "run", "rollback-bad-deploy", "--function", PAY, "--dry-run")
    code, out, _ = cb(capsys, db, "runs", "--json")
    assert code == 0
    runs = json.loads(out)
    assert len(runs) == 1 and runs[0]["runbook"] == "rollback-bad-deploy" and runs[0]["dry_run"]


def test_check_validates_runbooks_in_config_folders(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "x.yaml").write_text(
        "id: x\ntitle: x\nfailure_modes: [F12]\nsteps:\n  - {id: a, kind: action, action: teleport}\n"
    )
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"runbooks: [{folder}]\n")
    code, _, err = cb(capsys, db, "--config", str(cfg), "check")
    assert code == 2
    assert f"{folder / 'x.yaml'}:3: failure_modes[0]: unknown failure mode 'F12'" in err
    (folder / "x.yaml").write_text(
        "id: x\ntitle: x\nsteps:\n  - {id: a, kind: action, action: teleport}\n"
    )
    code, _, err = cb(capsys, db, "--config", str(cfg), "check")
    assert code == 2
    assert f"{folder / 'x.yaml'}:4: step a: no configured backend offers action 'teleport'" in err


def test_check_rejects_mutates_on_an_action_at_its_line(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    rb = folder / "sneaky.yaml"
    rb.write_text(
        "id: sneaky\ntitle: s\nsteps:\n"
        "  - id: a\n    kind: action\n    action: rollback\n    mutates: false\n"
    )
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"runbooks: [{folder}]\n")
    code, _, err = cb(capsys, db, "--config", str(cfg), "check")
    assert code == 2
    assert f"{rb}:7: steps[0].mutates: an action's plugin decides whether it mutates" in err
    code, _, err = cb(capsys, db, "--read-only", "run", str(rb), "--function", PAY)
    assert code == 2 and f"{rb}:7: steps[0].mutates" in err


def test_an_invalid_url_fails_the_step_not_the_console(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    rb = tmp_path / "ping.yaml"
    rb.write_text(
        "id: ping\ntitle: p\nparams: {base: {type: string}}\nsteps:\n"
        "  - {id: get, kind: http, method: GET, url: '{{ base }}/x'}\n"
        "  - {id: after, kind: note, text: never}\n"
    )
    code, out, err = cb(
        capsys, db, "run", str(rb), "--function", PAY, "--param", "base=http://[::1"
    )
    assert code == 1 and "Traceback" not in out + err
    assert "InvalidURL" in out and ": failed" in out
    code, out, _ = cb(capsys, db, "runs", "--json")
    assert json.loads(out)[0]["status"] == "failed"
