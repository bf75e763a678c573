"""The executor against the demo fleet: dry run, events, read-only, confirmation, retries,
verify polling, cancel and undo, resume."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from console.config import Config
from console.core.model import BackendStatus
from console.core.runbook import Runbook, parse_runbook
from console.engine.fleet.build import build_fleet
from console.engine.fleet.refresh import Backend, Fleet
from console.engine.runbooks.executor import ConfirmRequest, Executor
from console.engine.runbooks.runs import RunStore, process_identity
from console.engine.store.base import StoreLike as Store
from console.engine.store.events import EventLog
from console.errors import UserError
from console.yamlload import load_yaml_text

PAY = "checkout:POST /pay"
AUTHORIZE = "payments:rpc Authorize"

ROLLBACK = """\
id: t-rollback
title: roll back
steps:
  - {id: look, kind: check, signal: timeout_rate, op: ">", value: 0.02}
  - {id: say, kind: note, text: "rolling back {{ function.service }}"}
  - {id: act, kind: action, action: rollback}
  - {id: ok, kind: verify, finding: F1, within: 1m, every: 5s}
"""


def runbook(text: str) -> Runbook:
    data, lines = load_yaml_text(text, "t.yaml")
    return parse_runbook(data, lines, "t.yaml")


def demo(stores: Callable[[], Store]) -> tuple[Store, Fleet]:
    """A store on this test's engine (each test runs on SQLite and on PostgreSQL) and the
    demo fleet keeping its state in it."""
    store = stores()
    return store, build_fleet(Config.demo_only(), store=store)


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, s: float) -> None:
        self.calls.append(s)


def executor(store: Store, fleet: Fleet, **kw: Any) -> Executor:
    kw.setdefault("sleep", Sleeps())
    return Executor(fleet, store, secret=lambda n: "s3cr3t-value", poll_every=0, **kw)


def kinds(store: Store, run_id: str) -> list[tuple[str, str | None]]:
    return [(e.kind, e.data.get("step")) for e in EventLog(store).iter(run_id=run_id)]


async def findings(fleet: Fleet, fid: str) -> set[str]:
    return {f.mode.value for f in (await fleet.refresh()).by_id()[fid].findings}


async def test_dry_run_plans_every_step_and_changes_nothing(
    stores: Callable[[], Store], tmp_path: Path
) -> None:
    store, fleet = demo(stores)
    run = await executor(store, fleet).start(runbook(ROLLBACK), PAY, {}, dry_run=True)
    assert run.status == "succeeded" and run.dry_run
    assert [s.status for s in run.steps] == ["planned"] * 4
    assert "roll back checkout from v2.14.0 to v2.13.2" in run.steps[2].output
    assert "now timeout_rate = 0.08" in run.steps[0].output
    assert "F1" in await findings(fleet, PAY)  # nothing was rolled back
    assert not any(k == "step.intent" for k, _ in kinds(store, run.id))


async def test_a_run_writes_intent_before_result_and_cures_the_failure(
    stores: Callable[[], Store], tmp_path: Path
) -> None:
    store, fleet = demo(stores)
    run = await executor(store, fleet).start(runbook(ROLLBACK), PAY, {})
    assert run.status == "succeeded"
    assert [s.status for s in run.steps] == ["done"] * 4
    assert run.steps[1].output == "rolling back checkout"
    assert run.steps[3].output.startswith("poll 1: F1 not diagnosed")
    events = kinds(store, run.id)
    assert events[0] == ("run.started", None) and events[-1] == ("run.ended", None)
    for step in ("look", "say", "act", "ok"):
        assert events.index(("step.intent", step)) < events.index(("step.result", step))
    assert "F1" not in await findings(fleet, PAY)
    assert EventLog(store).verify().ok


async def test_read_only_refuses_every_mutating_step_and_records_it(
    stores: Callable[[], Store], tmp_path: Path
) -> None:
    store, fleet = demo(stores)
    run = await executor(store, fleet, read_only=True).start(runbook(ROLLBACK), PAY, {})
    assert run.status == "refused"
    assert [s.status for s in run.steps] == ["done", "done", "refused", "pending"]
    assert run.to_json()["steps"][3]["status"] == "skipped"
    assert "read-only" in run.steps[2].output
    events = kinds(store, run.id)
    assert ("step.refused", "act") in events and ("step.intent", "act") not in events
    assert "F1" in await findings(fleet, PAY)


async def test_production_asks_for_confirmation_naming_target_and_environment(
    stores: Callable[[], Store],
    tmp_path: Path,
) -> None:
    store, fleet = demo(stores)
    fleet.production, fleet.environment = True, "prod-eu"
    asked: list[ConfirmRequest] = []

    async def no(req: ConfirmRequest) -> bool:
        asked.append(req)
        return False

    run = await executor(store, fleet, confirm=no).start(runbook(ROLLBACK), PAY, {})
    assert run.status == "refused"
    assert len(asked) == 1
    req = asked[0]
    assert (req.step_id, req.target, req.environment, req.production) == (
        "act",
        PAY,
        "prod-eu",
        True,
    )
    assert "PRODUCTION prod-eu" in req.prompt() and PAY in req.prompt()

    async def yes(req: ConfirmRequest) -> bool:
        return True

    run = await executor(store, fleet, confirm=yes).start(runbook(ROLLBACK), PAY, {})
    assert run.status == "succeeded"
    assert ("step.confirmed", "act") in kinds(store, run.id)


def _says_it_does_not_mutate() -> Runbook:
    """A rollback whose author claims ``mutates: false`` (built in code: the file format
    refuses the key on an action)."""
    base = runbook(ROLLBACK)
    act = replace(base.steps[2], mutates=False)
    return replace(base, steps=(base.steps[0], act))


async def test_mutates_false_on_an_action_neither_escapes_read_only_nor_confirmation(
    stores: Callable[[], Store],
    tmp_path: Path,
) -> None:
    store, fleet = demo(stores)
    run = await executor(store, fleet, read_only=True).start(_says_it_does_not_mutate(), PAY, {})
    assert run.status == "refused" and "read-only" in run.steps[1].output
    assert "F1" in await findings(fleet, PAY)  # nothing was rolled back
    dry = await executor(store, fleet, read_only=True).start(
        _says_it_does_not_mutate(), PAY, {}, dry_run=True
    )
    assert "read-only: this step would be refused" in dry.steps[1].output

    fleet.production, fleet.environment = True, "prod-eu"
    asked: list[ConfirmRequest] = []

    async def no(req: ConfirmRequest) -> bool:
        asked.append(req)
        return False

    run = await executor(store, fleet, confirm=no).start(_says_it_does_not_mutate(), PAY, {})
    assert run.status == "refused" and [r.step_id for r in asked] == ["act"]
    assert "F1" in await findings(fleet, PAY)


async def test_a_confirm_step_without_a_confirmer_is_refused(
    stores: Callable[[], Store], tmp_path: Path
) -> None:
    store, fleet = demo(stores)
    rb = runbook("id: c\ntitle: c\nsteps:\n  - {id: n, kind: note, text: hi, confirm: true}\n")
    run = await executor(store, fleet).start(rb, PAY, {})
    assert run.status == "refused" and run.steps[0].status == "refused"


async def test_retries_back_off_with_full_jitter(
    stores: Callable[[], Store], tmp_path: Path
) -> None:
    store, fleet = demo(stores)
    counter = tmp_path / "attempts"
    script = (
        "import sys,pathlib; p=pathlib.Path(sys.argv[1]); n=len(p.read_text()) if p.exists() else 0;"
        " p.write_text('x'*(n+1)); sys.exit(0 if n>=2 else 1)"
    )
    rb = runbook(
        "id: r\ntitle: r\nsteps:\n"
        f"  - {{id: flaky, kind: command, retries: 3, command: [{sys.executable!r}, -c, {script!r}, {str(counter)!r}]}}\n"
    )
    sleeps = Sleeps()
    run = await executor(store, fleet, sleep=sleeps, rand=lambda: 0.5).start(rb, PAY, {})
    assert run.status == "succeeded"
    assert counter.read_text() == "xxx"  # two failures, then success
    assert sleeps.calls == [0.5, 1.0]  # rand × min(cap, base × 2^attempt)
    assert [k for k, _ in kinds(store, run.id)].count("step.intent") == 3


async def test_verify_polls_a_bounded_number_of_times(
    stores: Callable[[], Store], tmp_path: Path
) -> None:
    store, fleet = demo(stores)
    rb = runbook(
        "id: v\ntitle: v\nsteps:\n"
        "  - {id: never, kind: verify, signal: timeout_rate, op: '<', value: 0.0001, within: 30s, every: 10s}\n"
    )
    sleeps = Sleeps()
    run = await executor(store, fleet, sleep=sleeps).start(rb, PAY, {})
    assert run.status == "failed"
    assert "(4 polls)" in run.steps[0].output and len(sleeps.calls) == 3


async def test_cancel_stops_between_steps_and_undo_reverses_done_steps(
    stores: Callable[[], Store], tmp_path: Path
) -> None:
    store, fleet = demo(stores)
    rb = runbook(
        "id: u\ntitle: u\nsteps:\n"
        "  - {id: open, kind: action, action: circuit_open, params: {dependency: bank-gateway},"
        " undo: {kind: action, action: circuit_close, params: {dependency: bank-gateway}}}\n"
        "  - {id: later, kind: note, text: never}\n"
    )
    ex = executor(store, fleet)
    ex.on_update = lambda run: ex.cancel() if run.steps[0].status == "done" else None
    run = await ex.start(rb, AUTHORIZE, {})
    assert run.status == "cancelled"
    assert [s.status for s in run.steps] == ["done", "pending"]
    assert "F9" not in await findings(fleet, AUTHORIZE)
    ex.on_update = None
    run = await ex.undo(rb, run.id, {})
    assert [s.id for s in run.steps][-1] == "open.undo" and run.steps[-1].status == "done"
    assert "F9" in await findings(fleet, AUTHORIZE)  # the circuit is closed again


REPORTS = "reports:job nightly"
SCALE = """\
id: t-scale
title: scale out
steps:
  - {id: scale, kind: action, action: scale, params: {replicas: 3},
     undo: {kind: action, action: scale, params: {replicas: 1}}}
  - {id: clears, kind: verify, finding: F7, within: 1m, every: 5s}
"""


def runs_line(db: Path | str, capsys: pytest.CaptureFixture[str]) -> str:
    """The one line `callboard runs` prints for the only run."""
    from console.cli import main

    with pytest.raises(SystemExit):
        main(["--db", str(db), "runs"])
    (line,) = capsys.readouterr().out.splitlines()
    return line


async def test_resume_after_undo_runs_the_undone_step_again(
    stores: Callable[[], Store], store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store, fleet = demo(stores)
    rb = runbook(SCALE)
    ex = executor(store, fleet)
    ex.on_update = lambda run: ex.cancel() if run.steps[0].status == "done" else None
    run = await ex.start(rb, REPORTS, {})
    assert run.status == "cancelled" and "F7" not in await findings(fleet, REPORTS)
    ex.on_update = None
    run = await ex.undo(rb, run.id, {})
    assert "F7" in await findings(fleet, REPORTS)  # back to 1 replica
    assert [s.to_json(run.status)["status"] for s in run.steps] == ["skipped", "skipped", "done"]
    assert runs_line(store_url, capsys).endswith("0/2 steps done")

    run = await ex.resume(rb, run.id, {})
    assert run.status == "succeeded"
    scaled = [e for e in EventLog(store).iter(run_id=run.id) if e.kind == "step.result"]
    assert [e.data["step"] for e in scaled] == ["scale", "scale.undo", "scale", "clears"]
    assert "F7" not in await findings(fleet, REPORTS)  # scaled out again: the finding clears
    assert runs_line(store_url, capsys).endswith("2/2 steps done")


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


async def test_resume_settles_an_unknown_step_and_never_repeats_a_done_one(
    stores: Callable[[], Store], tmp_path: Path
) -> None:
    store, fleet = demo(stores)
    rb = runbook(
        "id: s\ntitle: s\nsteps:\n"
        "  - {id: one, kind: action, action: rollback}\n"
        "  - {id: two, kind: action, action: restart}\n"
        "  - {id: three, kind: note, text: done}\n"
    )
    ex = executor(store, fleet)
    run = await ex.start(rb, PAY, {})
    # Pretend the process died while step two ran: status running, its pid gone.
    store.execute(
        "UPDATE runs SET status='running', pid=?, ended_at=NULL WHERE id=?", (_dead_pid(), run.id)
    )
    store.execute("UPDATE steps SET status='running' WHERE run_id=? AND idx=1", (run.id,))
    store.execute("UPDATE steps SET status='pending' WHERE run_id=? AND idx=2", (run.id,))
    applied = len(store.plugin_state("demo").get("applied"))

    refused = await executor(store, fleet).resume(rb, run.id, {})
    assert refused.status == "refused"  # no decision: nothing guessed
    assert refused.to_json()["steps"][1]["status"] == "unknown"

    async def took_effect(step: Any, rec: Any) -> bool:
        return True

    done = await executor(store, fleet, decide=took_effect).resume(rb, run.id, {})
    assert done.status == "succeeded"
    assert [s.status for s in done.steps] == ["done", "done", "done"]
    assert len(store.plugin_state("demo").get("applied")) == applied  # nothing re-ran
    assert "operator: it took effect" in done.steps[1].output


async def test_a_run_crashed_under_our_pid_is_interrupted_and_resumable(
    stores: Callable[[], Store], tmp_path: Path
) -> None:
    # In a container every process is PID 1: the run's pid is ours, yet its process is gone.
    store, fleet = demo(stores)
    rb = runbook(
        "id: s\ntitle: s\nsteps:\n"
        "  - {id: one, kind: action, action: rollback}\n"
        "  - {id: two, kind: note, text: done}\n"
    )
    run = await executor(store, fleet).start(rb, PAY, {})
    earlier = process_identity().rsplit(":", 1)[0] + ":1"  # same pid, started long ago
    assert earlier != process_identity()
    store.execute(
        "UPDATE runs SET status='running', pid=?, owner=?, ended_at=NULL WHERE id=?",
        (os.getpid(), earlier, run.id),
    )
    store.execute("UPDATE steps SET status='running' WHERE run_id=? AND idx=0", (run.id,))
    store.execute("UPDATE steps SET status='pending' WHERE run_id=? AND idx=1", (run.id,))
    assert RunStore(store).recent()[0].status == "interrupted"

    async def took_effect(step: Any, rec: Any) -> bool:
        return True

    done = await executor(store, fleet, decide=took_effect).resume(rb, run.id, {})
    assert done.status == "succeeded" and [s.status for s in done.steps] == ["done", "done"]


async def test_a_run_of_a_live_process_is_not_taken_over(
    stores: Callable[[], Store], tmp_path: Path
) -> None:
    store, fleet = demo(stores)
    rb = runbook("id: s\ntitle: s\nsteps:\n  - {id: one, kind: note, text: hi}\n")
    run = await executor(store, fleet).start(rb, PAY, {})
    store.execute("UPDATE runs SET status='running', ended_at=NULL WHERE id=?", (run.id,))
    assert RunStore(store).recent()[0].status == "running"  # ours, still alive
    with pytest.raises(UserError, match="still running"):
        await executor(store, fleet).resume(rb, run.id, {})


class _BrokenPromQL:
    """A backend whose PromQL call has a bug (an untyped exception)."""

    async def check(self) -> BackendStatus:
        return BackendStatus("broken", "broken", True)

    async def aclose(self) -> None:
        return None

    async def query_scalar(self, promql: str) -> float | None:
        raise TypeError("unsupported operand in plugin")


async def test_an_untyped_error_in_a_step_fails_it_and_the_run_ends_failed(
    stores: Callable[[], Store],
    tmp_path: Path,
) -> None:
    store, fleet = demo(stores)
    fleet.backends.insert(0, Backend("broken", "broken", _BrokenPromQL()))
    rb = runbook(
        "id: q\ntitle: q\nsteps:\n"
        "  - {id: look, kind: check, query: 'up', op: '>', value: 0}\n"
        "  - {id: after, kind: note, text: never}\n"
    )
    run = await executor(store, fleet).start(rb, PAY, {})
    assert run.status == "failed"
    assert [s.status for s in run.steps] == ["failed", "pending"]
    assert run.steps[0].output == "TypeError: unsupported operand in plugin"
    stored = RunStore(store).get(run.id)
    assert stored is not None and stored.status == "failed"
    assert ("step.result", "look") in kinds(store, run.id)


async def test_an_incident_opened_while_the_last_step_asks_takes_the_run(
    stores: Callable[[], Store], tmp_path: Path
) -> None:
    """The console's confirmation can open the incident (issue 13): when the step that asks
    is the runbook's last, the run must still join it (it used to link only before a step)."""
    from console.engine.incidents.lifecycle import get_incident, open_incident

    store, fleet = demo(stores)
    last_asks = runbook(
        "id: t-ask-last\ntitle: ask last\nsteps:\n"
        "  - {id: say, kind: note, text: hello}\n"
        "  - {id: act, kind: action, action: rollback, confirm: true}\n"
    )
    opened: list[str] = []

    async def yes_and_open(req: ConfirmRequest) -> bool:
        opened.append(open_incident(store, "pay is down", [PAY]).id)
        return True

    run = await executor(store, fleet, confirm=yes_and_open).start(last_asks, PAY, {})
    assert run.status == "succeeded" and opened
    assert run.incident_id == opened[0]
    stored = RunStore(store).get(run.id)
    assert stored is not None and stored.incident_id == opened[0]
    assert ("run.linked", None) in kinds(store, run.id)
    assert get_incident(store, opened[0]).id == opened[0]
