"""Issue 10: every action safe and on the record — resume, incident links, read-only,
cancel, undo and duration params, as a responder meets them through ``callboard run``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from console.cli import main
from console.config import Config
from console.core.runbook import Runbook, Step, parse_runbook
from console.engine.fleet.build import build_fleet
from console.engine.incidents.export import export_incident
from console.engine.runbooks.executor import Executor
from console.engine.store.events import EventLog
from console.engine.store.sqlite import Store
from console.errors import ConfigErrors
from console.yamlload import load_yaml_text

PAY = "checkout:POST /pay"
AUTHORIZE = "payments:rpc Authorize"


def cb(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(db), *args])
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cb.db"


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def kinds(db: Path, run_id: str) -> list[tuple[str, Any]]:
    return [(e.kind, e.data.get("step")) for e in EventLog(Store(db)).iter(run_id=run_id)]


def runbook(text: str) -> Runbook:
    data, lines = load_yaml_text(text, "t.yaml")
    return parse_runbook(data, lines, "t.yaml")


# -- 1. resume re-establishes the facts ---------------------------------------------------


def test_a_stale_resume_does_not_roll_a_healed_service_back_again(
    capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    code, out, err = cb(capsys, db, "run", "rollback-bad-deploy", "--function", PAY, "--json")
    first = json.loads(out)["run_id"]
    assert code == 3 and "v2.14.0 → v2.13.2" in err  # the refusal names the versions
    code, _, err = cb(capsys, db, "run", "rollback-bad-deploy", "--function", PAY, "--yes")
    assert code == 0 and "v2.14.0 → v2.13.2" in err  # so does the confirmation by --yes

    code, out, _ = cb(capsys, db, "run", "--resume", first, "--yes", "--json")
    assert code == 1
    steps = {s["id"]: s for s in json.loads(out)["steps"]}
    assert steps["confirm-symptom"]["status"] == "failed"
    assert steps["confirm-symptom"]["output"].startswith("guard no longer holds: timeout_rate")
    assert steps["rollback"]["status"] == "skipped"
    assert ("step.intent", "rollback") not in kinds(db, first)
    code, _, err = cb(capsys, db, "run", "--resume", first, "--yes")
    assert code == 1 and "guard no longer holds" in err
    assert "resume with" not in err  # resuming would only fail the guard again
    # checkout is still on v2.13.2: the next rollback would be v2.13.2 → v2.13.1
    code, out, _ = cb(
        capsys, db, "run", "rollback-bad-deploy", "--function", PAY, "--dry-run", "--json"
    )
    assert "v2.13.2 → v2.13.1" in json.loads(out)["steps"][2]["output"]


def test_a_resumed_plan_that_changed_needs_its_own_confirmation(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    rb = write(
        tmp_path,
        "rb.yaml",
        "id: plain-rollback\ntitle: t\nsteps:\n"
        "  - {id: rollback, kind: action, action: rollback, confirm: true}\n",
    )
    code, out, _ = cb(capsys, db, "run", str(rb), "--function", PAY, "--json")
    first = json.loads(out)["run_id"]
    assert code == 3
    assert cb(capsys, db, "run", "rollback-bad-deploy", "--function", PAY, "--yes")[0] == 0

    code, _, err = cb(capsys, db, "run", "--resume", first, "--yes")
    assert code == 3  # --yes confirms only the plan first shown
    assert "the plan changed since it was first shown" in err
    was, now = err.index("was:"), err.index("now:")
    assert "v2.14.0 → v2.13.2" in err[was:now] and "v2.13.2 → v2.13.1" in err[now:]
    digest = err.split("--accept-plan ")[1].split()[0]
    assert ("step.replanned", "rollback") in kinds(db, first)

    code, _, err = cb(capsys, db, "run", "--resume", first, "--yes", "--accept-plan", digest)
    assert code == 0 and f"confirmed by --accept-plan {digest}" in err
    assert "v2.13.2 → v2.13.1" in err


# -- 2. one rule links runs to incidents ---------------------------------------------------


def test_a_run_on_a_function_with_an_open_incident_belongs_to_it(
    capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    code, _, _ = cb(capsys, db, "incident", "open", "--title", "pay slow", "--function", PAY)
    assert code == 0
    code, out, _ = cb(
        capsys, db, "run", "rollback-bad-deploy", "--function", PAY, "--yes", "--json"
    )
    doc = json.loads(out)
    assert code == 0 and doc["incident_id"] == "INC-0001"
    md = export_incident(Store(db), "INC-0001", "md")
    assert "No actions were recorded" not in md and "roll back checkout" in md

    code, out, _ = cb(
        capsys, db, "run", "rollback-bad-deploy", "--function", PAY, "--no-incident",
        "--dry-run", "--json",
    )  # fmt: skip
    assert json.loads(out)["incident_id"] is None


def test_no_incident_keeps_a_real_run_out_of_the_incident(
    capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    cb(capsys, db, "incident", "open", "--title", "pay slow", "--function", PAY)
    code, out, _ = cb(
        capsys, db, "run", "rollback-bad-deploy", "--function", PAY, "--no-incident", "--json"
    )
    assert code == 3 and json.loads(out)["incident_id"] is None
    declined = json.loads(out)["run_id"]
    code, out, _ = cb(capsys, db, "run", "--resume", declined, "--yes", "--json")
    assert code == 0 and json.loads(out)["incident_id"] is None  # the choice holds on resume
    code, _, err = cb(
        capsys, db, "run", "rollback-bad-deploy", "--function", PAY, "--no-incident",
        "--incident", "INC-0001",
    )  # fmt: skip
    assert code == 2 and "contradict" in err


# -- 5. read-only means nothing leaves the machine ------------------------------------------


@pytest.mark.parametrize(
    ("step", "what"),
    [
        ("{id: s, kind: command, mutates: false, command: [echo, hi]}", "a command"),
        (
            "{id: s, kind: http, method: DELETE, url: 'http://127.0.0.1:9/x', mutates: false}",
            "an http DELETE",
        ),
    ],
)
def test_check_reports_mutates_false_outside_get_and_head(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path, step: str, what: str
) -> None:
    rb = write(tmp_path, "rb.yaml", f"id: x\ntitle: t\nsteps:\n  - {step}\n")
    with pytest.raises(ConfigErrors) as exc:
        parse_runbook(*load_yaml_text(rb.read_text(), str(rb)), str(rb))
    assert f"{rb}:4" in str(exc.value) and what in str(exc.value)
    ok = write(
        tmp_path,
        "get.yaml",
        "id: y\ntitle: t\nsteps:\n"
        "  - {id: s, kind: http, method: GET, url: 'http://127.0.0.1:9/x', mutates: false}\n",
    )
    assert not parse_runbook(*load_yaml_text(ok.read_text(), str(ok)), str(ok)).steps[0].may_mutate


def test_a_user_runbook_with_a_shipped_id_cannot_bypass_read_only(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    write(
        folder,
        "rollback-bad-deploy.yaml",
        "id: rollback-bad-deploy\ntitle: sneaky\nsteps:\n"
        "  - {id: s, kind: command, mutates: false, command: [touch, "
        f"'{tmp_path / 'pwned'}']}}\n",
    )
    cfg = write(tmp_path, "cfg.yaml", f"runbooks: ['{folder}']\notlp: {{enabled: false}}\n")
    code, _, err = cb(capsys, db, "--config", str(cfg), "check")
    assert code == 2 and "rollback-bad-deploy.yaml:4" in err and "mutates" in err
    for extra in (["--read-only"], []):  # refused before it runs, read-only or not
        code, _, err = cb(capsys, db, "--config", str(cfg), *extra, "run",
                          "rollback-bad-deploy", "--function", PAY, "--yes")  # fmt: skip
        assert code == 2 and "rollback-bad-deploy.yaml:4" in err
    assert not (tmp_path / "pwned").exists()


async def test_read_only_refuses_commands_and_http_writes_whatever_mutates_says(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "cb.db")
    fleet = build_fleet(Config.demo_only(), store=store)
    marker = tmp_path / "ran"
    steps = (
        Step("cmd", "command", mutates=False, command=("touch", str(marker))),
        Step("del", "http", mutates=False, method="DELETE", url="http://127.0.0.1:9/x"),
    )
    for step in steps:  # built in code: no parser stands in the way, the executor does
        ex = Executor(fleet, store, secret=str, read_only=True)
        run = await ex.start(Runbook("t", "t", steps=(step,)), PAY, {})
        assert run.status == "refused" and "read-only" in run.steps[0].output
        assert [k for k, _ in kinds(Path(store.path), run.id)].count("step.refused") == 1
    assert not marker.exists()
    # production without read-only: still a confirmation, mutates: false or not
    fleet.production = True
    asked: list[str] = []

    async def no(req: Any) -> bool:
        asked.append(req.reason)
        return False

    run = await Executor(fleet, store, secret=str, confirm=no).start(
        Runbook("t", "t", steps=(steps[0],)), PAY, {}
    )
    assert run.status == "refused" and asked == ["a mutating step in production"]
    assert not marker.exists()


# -- 6. cancel is prompt -------------------------------------------------------------------


async def test_cancel_stops_a_polling_verify_at_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "cb.db")
    fleet = build_fleet(Config.demo_only(), store=store)
    rb = runbook(
        "id: w\ntitle: t\nsteps:\n"
        "  - {id: recover, kind: verify, signal: timeout_rate, op: '<', value: 0.02,"
        " within: 10m, every: 15s}\n"
        "  - {id: after, kind: note, text: never}\n"
    )
    ex: Executor

    async def forever(_: float) -> None:  # a 15 s wait that never ends by itself
        ex.cancel()
        await asyncio.Event().wait()

    ex = Executor(fleet, store, secret=str, sleep=forever)
    run = await asyncio.wait_for(ex.start(rb, PAY, {}), 5)
    assert run.status == "cancelled"
    assert run.steps[0].status == "cancelled" and run.steps[1].status == "pending"
    assert run.steps[0].output.startswith("cancelled during poll 1 of at most 41")
    cancelled = [e for e in EventLog(store).iter(run_id=run.id) if e.kind == "run.cancelled"]
    assert [e.data for e in cancelled] == [{"in": "recover"}]


# -- 7. undo a finished run ----------------------------------------------------------------


def test_undo_a_succeeded_run_confirms_and_records_each_undo(
    capsys: pytest.CaptureFixture[str], db: Path
) -> None:
    cb(capsys, db, "incident", "open", "--title", "bank down", "--function", AUTHORIZE)
    code, out, _ = cb(
        capsys, db, "run", "dependency-circuit-open", "--function", AUTHORIZE,
        "--param", "dependency=bank-gateway", "--yes", "--json",
    )  # fmt: skip
    run_id = json.loads(out)["run_id"]
    assert code == 0 and json.loads(out)["status"] == "succeeded"

    code, _, err = cb(capsys, db, "run", "--undo", run_id)  # a confirm step's undo asks too
    assert code == 3 and "open → closed" in err
    code, out, err = cb(capsys, db, "run", "--undo", run_id, "--yes", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["status"] == "undone" and doc["incident_id"] == "INC-0001"
    undo = [s for s in doc["steps"] if s["id"] == "open-circuit.undo"]
    assert undo[-1]["status"] == "done"
    assert "open → closed" in err  # the confirmation names the change
    events = kinds(db, run_id)
    assert events.index(("step.confirmed", "open-circuit.undo")) < events.index(
        ("step.intent", "open-circuit.undo")
    )
    incident = [e.kind for e in EventLog(Store(db)).iter() if e.incident_id == "INC-0001"]
    assert "run.undo" in incident


# -- duration params pass into actions as durations ----------------------------------------


def test_a_duration_param_reaches_an_action_as_a_duration(
    capsys: pytest.CaptureFixture[str], db: Path, tmp_path: Path
) -> None:
    rb = write(
        tmp_path,
        "silence.yaml",
        "id: quiet\ntitle: t\nparams:\n  for: {type: duration, default: 20m}\nsteps:\n"
        "  - {id: hush, kind: action, action: silence, params: {duration: '{{ for }}'}}\n",
    )
    code, out, _ = cb(capsys, db, "run", str(rb), "--function", PAY, "--dry-run", "--json")
    assert code == 0, out
    assert "for 20m" in json.loads(out)["steps"][0]["output"]
    code, out, _ = cb(
        capsys, db, "run", str(rb), "--function", PAY, "--param", "for=90s", "--dry-run",
        "--json",
    )  # fmt: skip
    assert code == 0 and "for 90s" in json.loads(out)["steps"][0]["output"]
    started = [e for e in EventLog(Store(db)).iter() if e.kind == "run.started"]
    assert started[-1].data["params"] == {"for": "90s"}  # the timeline says 90s, not 90.0


def test_ctrl_c_cancels_a_cli_run_inside_a_verify_wait(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    rb = write(
        tmp_path,
        "wait.yaml",
        "id: w\ntitle: t\nsteps:\n  - {id: hello, kind: note, text: waiting}\n"
        "  - {id: recover, kind: verify, signal: timeout_rate, op: '<', value: 0.02,"
        " within: 10m, every: 15s}\n",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLBOARD_")}
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "--db", str(tmp_path / "cb.db"), "run", str(rb),
         "--function", PAY],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert "hello [note] done" in proc.stdout.readline()  # the verify starts now
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)  # a 15 s wait would still be under way
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 1, err
    assert "recover [verify] cancelled" in out and ": cancelled" in out


async def test_a_run_joins_an_incident_opened_while_it_runs(tmp_path: Path) -> None:
    from console.engine.incidents.lifecycle import open_incident

    store = Store(tmp_path / "cb.db")
    fleet = build_fleet(Config.demo_only(), store=store)
    rb = runbook(
        "id: m\ntitle: t\nsteps:\n  - {id: look, kind: manual, text: look at the graphs}\n"
        "  - {id: say, kind: note, text: acting}\n"
    )

    async def meanwhile(_: Any) -> bool:  # the operator opens an incident, then confirms
        open_incident(store, "pay slow", [PAY])
        return True

    run = await Executor(fleet, store, secret=str, confirm=meanwhile).start(rb, PAY, {})
    assert run.status == "succeeded" and run.incident_id == "INC-0001"
    md = export_incident(store, "INC-0001", "md")
    assert "look at the graphs" in md and "acting" in md


async def test_cancel_stops_a_long_command_at_once_and_its_outcome_is_unknown(
    tmp_path: Path,
) -> None:
    import sys

    store = Store(tmp_path / "cb.db")
    fleet = build_fleet(Config.demo_only(), store=store)
    rb = runbook(
        "id: c\ntitle: t\nsteps:\n"
        f"  - {{id: wait, kind: command, command: [{sys.executable!r}, -c,"
        " 'import time; time.sleep(120)'], timeout: 5m}\n"
        "  - {id: after, kind: note, text: never}\n"
    )
    ex: Executor
    loop = asyncio.get_running_loop()

    def on_update(record: Any) -> None:  # the command starts: the operator presses c
        if record.steps[0].status == "running":
            loop.call_soon(ex.cancel)

    ex = Executor(fleet, store, secret=str, on_update=on_update)
    run = await asyncio.wait_for(ex.start(rb, PAY, {}), 30)  # not the command's 120 s
    assert run.status == "cancelled"
    assert run.steps[0].status == "unknown" and run.steps[1].status == "pending"
    assert run.steps[0].output.startswith("stopped by cancel")
    assert {"in": "wait"} in [
        e.data for e in EventLog(store).iter(run_id=run.id) if e.kind == "run.cancelled"
    ]
