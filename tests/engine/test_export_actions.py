"""Issue 10: what a responder did reads as sentences in the export — a run linked to the
incident, refused, confirmed, cancelled, resumed with a changed plan and undone — and every
action is in the "Actions taken" list, refusals and undos marked as such (md and html)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from console.cli import main
from console.config import Config
from console.context import AppContext
from console.core.runbook import parse_runbook
from console.engine.fleet.build import build_fleet
from console.engine.incidents.export import export_incident
from console.engine.runbooks.executor import Executor
from console.engine.store.base import StoreLike
from console.yamlload import load_yaml_text

PAY = "checkout:POST /pay"
AUTHORIZE = "payments:rpc Authorize"
#: A line the timeline shows when it has no sentence for an event: ``kind: key=value``.
RAW = re.compile(r"^[a-z_]+\.[a-z_]+: \w+=")


def cb(capsys: pytest.CaptureFixture[str], db: Path | str, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(db), *args])
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


async def cancel_in_verify(db: str) -> None:
    """A run on PAY the operator cancels while its verify waits for the next poll (the
    stores as the CLI has them: the team store, the demo's state in the local file)."""
    app = AppContext(db_path=db)
    store = app.store
    fleet = build_fleet(Config.demo_only(), store=app.local_store)
    text = (
        "id: wait\ntitle: t\nsteps:\n"
        "  - {id: recover, kind: verify, signal: timeout_rate, op: '>', value: 0.5,"
        " within: 10m, every: 15s}\n"
    )
    data, lines = load_yaml_text(text, "wait.yaml")
    ex: Executor

    async def forever(_: float) -> None:
        ex.cancel()
        await asyncio.Event().wait()

    ex = Executor(fleet, store, secret=str, sleep=forever)
    try:
        run = await asyncio.wait_for(ex.start(parse_runbook(data, lines, "wait.yaml"), PAY, {}), 5)
    finally:
        await fleet.aclose()
        app.close()
    assert run.status == "cancelled"


def test_an_export_tells_every_action_as_a_sentence(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    store_url: str,
    stores: Callable[[], StoreLike],
) -> None:
    db = store_url
    rb = tmp_path / "rb.yaml"
    rb.write_text(
        "id: plain-rollback\ntitle: t\nsteps:\n"
        "  - {id: rollback, kind: action, action: rollback, confirm: true}\n"
    )
    code, out, _ = cb(capsys, db, "incident", "open", "--title", "pay down",
                      "--function", PAY, "--function", AUTHORIZE, "--json")  # fmt: skip
    assert code == 0
    inc = json.loads(out)["id"]
    code, out, _ = cb(capsys, db, "run", str(rb), "--function", PAY, "--json")
    assert code == 3  # refused: no --yes
    first = json.loads(out)["run_id"]
    assert cb(capsys, db, "run", "rollback-bad-deploy", "--function", PAY, "--yes")[0] == 0
    code, _, err = cb(capsys, db, "run", "--resume", first, "--yes")
    assert code == 3  # the plan changed: --yes is not enough
    digest = err.split("--accept-plan ")[1].split()[0]
    assert cb(capsys, db, "run", "--resume", first, "--yes", "--accept-plan", digest)[0] == 0
    asyncio.run(cancel_in_verify(db))
    code, out, _ = cb(capsys, db, "run", "dependency-circuit-open", "--function", AUTHORIZE,
                      "--param", "dependency=bank-gateway", "--yes", "--json")  # fmt: skip
    circuit = json.loads(out)["run_id"]
    assert code == 0
    assert cb(capsys, db, "run", "--undo", circuit, "--yes")[0] == 0

    md = export_incident(stores(), inc, "md")
    timeline = md.split("## Timeline (UTC)")[1].split("## Actions taken")[0]
    said = [row.split(" | ")[4] for row in timeline.splitlines() if row.startswith("| 20")]
    assert not [s for s in said if RAW.match(s)], "events shown as raw key=value text"
    for sentence in (
        f"Runbook plain-rollback run linked to incident {inc}",
        "Step rollback refused: confirmation not given (a confirm step) — demo: roll back",
        "Step rollback re-planned on resume, the plan changed: was demo:",
        "Step rollback confirmed by the operator (the plan changed since it was first shown)",
        "Run cancelled by the operator: stopped in step recover",
        "Undo of the runbook dependency-circuit-open run (it had succeeded): done steps reversed",
        "Runbook plain-rollback run resumed",
    ):
        assert sentence in timeline, sentence
    assert f"Runbook wait run linked to incident {inc}" in timeline  # the cancelled run too

    actions = md.split("## Actions taken")[1].split("## Linked traces")[0]
    rows = [r for r in actions.splitlines() if r.startswith("| 20")]
    refused = [r for r in rows if "REFUSED · rollback" in r]
    assert refused and all("| refused: confirmation not given" in r for r in refused)
    assert [r for r in rows if "UNDO · open-circuit.undo" in r and "| ok" in r]
    assert [r for r in rows if "| rollback: demo: roll back" in r and "| ok" in r]
    assert "No actions were recorded" not in md
    assert "refused, 1 undo(s)" in md.split("## Impact")[0]

    doc = json.loads(export_incident(stores(), inc, "json"))
    marks = [a["mark"] for a in doc["actions"]]
    assert marks.count("refused") == 2 and marks.count("undo") == 1 and None in marks

    html = export_incident(stores(), inc, "html")
    assert "REFUSED · rollback" in html and "UNDO · open-circuit.undo" in html
    assert "Run cancelled by the operator: stopped in step recover" in html
    assert "re-planned on resume, the plan changed" in html


def test_a_failed_guard_and_a_refused_annotation_read_as_sentences() -> None:
    from console.core.timeline import summarize

    guard = summarize("step.result", {"step": "confirm-symptom", "kind": "check",
                      "status": "failed", "output": "guard no longer holds: timeout_rate = 0.0"})  # fmt: skip
    assert guard == (
        "Guard confirm-symptom checked again on resume: guard no longer holds: "
        "timeout_rate = 0.0; the run stops here"
    )
    refused = summarize("annotation.refused", {"backends": ["grafana"],
                        "reason": "read-only: annotation not posted"})  # fmt: skip
    assert refused == "Annotation refused (not posted to grafana): read-only: annotation not posted"
    assert summarize("run.cancelled", {"before": "rollback"}) == (
        "Run cancelled by the operator before step rollback"
    )
