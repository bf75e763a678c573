"""``callboard runbooks test``: every runbook run for real on a fresh demo fleet.

It passes on the shipped runbooks, and names the runbook — and the check — that no longer
works: an action that no longer cures its mode, an undo that does not restore, a dry run
that cannot plan, a param without a value. A file that does not parse is exit 2 at its line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from console.cli import main
from console.core.diagnose import DEFAULT_RUNBOOKS
from console.engine.runbooks.trial import CHECKS
from console.engine.store.sqlite import Store

SHIPPED = Path(__file__).resolve().parents[2] / "runbooks"


def cb(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def copy(
    tmp: Path, shipped: str, new_id: str, *edits: tuple[str, str], folder: str = "team"
) -> Path:
    """A copy of a shipped runbook under a new id, each ``(old, new)`` text replaced."""
    text = (SHIPPED / f"{shipped}.yaml").read_text()
    text = text.replace(f"id: {shipped}\n", f"id: {new_id}\n", 1)
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    (tmp / folder).mkdir(exist_ok=True)
    path = tmp / folder / f"{new_id}.yaml"
    path.write_text(text)
    return path


def test_every_shipped_runbook_passes_every_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = cb(capsys, "--db", str(tmp_path / "db"), "runbooks", "test", "--json")
    doc = json.loads(out)
    assert code == 0, (doc, err)
    assert doc["ok"] is True and doc["failed"] == 0
    by_id = {r["runbook"]: r for r in doc["results"]}
    assert set(by_id) == {rb for ids in DEFAULT_RUNBOOKS.values() for rb in ids}
    for mode, ids in DEFAULT_RUNBOOKS.items():
        result = by_id[ids[0]]
        assert result["mode"] == mode.value and result["ok"] is True, result
        assert list(result["checks"]) == list(CHECKS)
        assert result["checks"]["cures"]["ok"] is True, result
        assert (
            f"{mode.value} cleared on {result['function']}" in result["checks"]["cures"]["detail"]
        )
        assert result["checks"]["dry_run"]["ok"] is True
    # the one shipped runbook with an undo: closing the circuit brings the outage back
    undo = by_id["dependency-circuit-open"]["checks"]["undo"]
    assert undo["ok"] is True and "F9" in undo["detail"], undo
    assert by_id["rollback-bad-deploy"]["checks"]["undo"]["ok"] is None
    # the trials ran in their own throwaway stores: the operator's holds no run
    if (tmp_path / "db").exists():
        store = Store(tmp_path / "db")
        try:
            assert store.query("SELECT COUNT(*) AS n FROM runs")[0]["n"] == 0
        finally:
            store.close()


def test_a_runbook_whose_action_no_longer_cures_its_mode_fails_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    copy(tmp_path, "rollback-bad-deploy", "rollback-stale", ("action: rollback", "action: restart"))
    code, out, err = cb(capsys, "runbooks", "test", str(tmp_path / "team"), str(SHIPPED))
    assert code == 1, (out, err)
    failures = [line for line in out.splitlines() if line.startswith("failed: ")]
    assert len(failures) == 1, failures
    assert re.fullmatch(
        r"failed: rollback-stale \(F1\): cures: step timeouts-recover failed: not within 600s "
        r"\(41 polls\): timeout_rate = 0\.0\d+ \(expected < 0\.02\)",
        failures[0],
    ), failures
    row = next(line for line in out.splitlines() if line.startswith("rollback-stale "))
    assert row.split()[-4:] == ["ok", "ok", "FAIL", "—"]
    assert "10 of 11 trials passed" in out  # the shipped ones still pass beside it


def test_the_bound_is_the_demos_simulated_clock_not_wall_time(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # a verify that waits up to a day for a cure that never comes: a day of simulated time
    copy(
        tmp_path, "partial-failure-drain", "drain-never", ("action: restart", "action: silence"),
        ("within: 10m", "within: 24h"),
    )  # fmt: skip
    code, out, _ = cb(capsys, "runbooks", "test", str(tmp_path / "team"), "--json")
    result = json.loads(out)["results"][0]
    assert code == 1
    cures = result["checks"]["cures"]
    assert cures["ok"] is False
    assert cures["detail"].startswith("step errors-fall still waiting after 6h of simulated time")
    assert result["simulated_s"] is not None and result["simulated_s"] >= 6 * 3600


def test_an_undo_that_does_not_restore_fails_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    copy(
        tmp_path, "dependency-circuit-open", "circuit-sticky",
        ("      action: circuit_close", "      action: circuit_open"),
    )  # fmt: skip
    code, out, err = cb(capsys, "runbooks", "test", str(tmp_path / "team"), "--json")
    assert code == 1
    result = json.loads(out)["results"][0]
    assert result["checks"]["cures"]["ok"] is True
    assert result["checks"]["undo"]["ok"] is False
    assert "F9" in result["checks"]["undo"]["detail"]
    assert err.startswith("failed: circuit-sticky (F9): undo: findings on payments:rpc Authorize")


def test_a_step_that_cannot_plan_fails_the_dry_run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    copy(
        tmp_path, "resource-scale-out", "scale-oddly", ("params: {replicas: \"{{ replicas }}\"}", "params: {min_instances: 2}")
    )  # fmt: skip
    code, out, _ = cb(capsys, "runbooks", "test", str(tmp_path / "team"))
    assert code == 1
    assert "failed: scale-oddly (F7): dry_run: step scale failed: cannot plan: scale:" in out


def test_params_need_a_value_and_from_sources_must_resolve(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    untested = copy(tmp_path, "retry-storm-throttle", "storm-untested")
    text = untested.read_text()
    untested.write_text(text[: text.index("\ntest:")] + "\n")  # no test values for rps
    # the timeout finding names no dependency: a param read from it has nowhere to come from
    copy(
        tmp_path, "rollback-bad-deploy", "rollback-from",
        ("params:\n", "params:\n  service:\n    type: string\n    from: evidence.dependency\n"),
    )  # fmt: skip
    code, out, _ = cb(capsys, "runbooks", "test", str(tmp_path / "team"), "--json")
    assert code == 1
    results = {r["runbook"]: r for r in json.loads(out)["results"]}
    storm = results["storm-untested"]["checks"]["params"]
    assert storm["ok"] is False and "param rps is required" in storm["detail"]
    assert results["storm-untested"]["checks"]["dry_run"]["ok"] is None
    sourced = results["rollback-from"]["checks"]["params"]
    assert sourced["ok"] is False
    assert "from evidence.dependency, but the demo's F1 finding" in sourced["detail"]
    # the value on the command line, for that runbook only
    code, out, _ = cb(
        capsys, "runbooks", "test", str(tmp_path / "team" / "storm-untested.yaml"),
        "--param", "storm-untested.rps=50", "--json",
    )  # fmt: skip
    assert code == 0, out
    assert json.loads(out)["results"][0]["checks"]["params"]["detail"] == "rps=50.0"


def test_a_command_step_is_planned_but_never_run_for_real(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "scripted.yaml").write_text(
        "id: scripted\ntitle: Roll back by script\nfailure_modes: [F1]\nsteps:\n"
        f"  - {{id: rollback, kind: command, command: [touch, '{marker}']}}\n"
        "  - {id: recovered, kind: verify, finding: F1, within: 1m}\n"
    )
    code, out, _ = cb(capsys, "runbooks", "test", str(tmp_path / "team"), "--json")
    result = json.loads(out)["results"][0]
    assert code == 0, result
    assert result["checks"]["dry_run"]["ok"] is True
    assert result["checks"]["cures"]["ok"] is None
    assert "would act outside the demo" in result["checks"]["cures"]["detail"]
    assert not marker.exists()


def test_a_malformed_runbook_is_exit_2_at_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "bad.yaml").write_text(
        "id: bad\ntitle: Bad\nparams:\n  rps: {type: float}\ntest:\n  params: {rsp: 5}\n"
        "steps:\n  - {id: a, kind: nope}\n"
    )
    code, out, err = cb(capsys, "runbooks", "test", str(tmp_path / "team"))
    assert code == 2 and out == ""
    bad = str(tmp_path / "team" / "bad.yaml")
    assert f"{bad}:6: test.params.rsp: not a param of this runbook (it takes: rps)" in err
    assert f"{bad}:8: steps[0].kind: expected a step kind" in err
    assert "Traceback" not in err
    code, _, err = cb(capsys, "runbooks", "test", str(tmp_path / "nowhere"))
    assert code == 2 and "no such runbook file or folder" in err


def test_a_configured_runbook_folder_is_tested_too(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    copy(tmp_path, "rollback-bad-deploy", "rollback-stale", ("action: rollback", "action: restart"))
    config = tmp_path / "config.yaml"
    config.write_text(f"runbooks: [{tmp_path / 'team'}]\n")
    code, out, _ = cb(capsys, "--config", str(config), "runbooks", "test")
    assert code == 1
    assert "failed: rollback-stale (F1): cures:" in out
    assert "10 of 11 trials passed" in out


def test_a_runbook_without_a_failure_mode_gets_its_params_checked_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "team").mkdir()
    (tmp_path / "team" / "announce.yaml").write_text(
        "id: announce\ntitle: Tell the channel\n"
        "params:\n  dep: {type: string, pattern: 'bank-.*', from: evidence.dependency}\n"
        "  minutes: {type: int, min: 1, default: 0}\n"
        "steps:\n  - {id: say, kind: note, text: '{{ dep }} for {{ minutes }}m'}\n"
    )
    code, out, err = cb(capsys, "runbooks", "test", str(tmp_path / "team"), "--json")
    # a default outside the param's own limits is a malformed runbook, at its line
    assert (
        code == 2 and "announce.yaml:5: params.minutes.default: default must be at least 1" in err
    )
    text = (tmp_path / "team" / "announce.yaml").read_text().replace("default: 0", "default: 5")
    (tmp_path / "team" / "announce.yaml").write_text(text)
    code, out, _ = cb(capsys, "runbooks", "test", str(tmp_path / "team"), "--json")
    doc = json.loads(out)
    assert code == 0, doc
    [result] = doc["results"]
    assert result["mode"] is None and result["function"] is None
    assert result["checks"]["params"] == {"ok": True, "detail": "dep, minutes=5"}
    assert {result["checks"][c]["ok"] for c in ("dry_run", "cures", "undo")} == {None}
    assert doc["simulated_s"] is None  # no trial ran on the demo: unknown, not 0
