"""An incident driven through the demo fleet exports completely, sorted, and without secrets."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from console.cli import main
from console.core.postmortem import build_postmortem
from console.core.redact import REDACTOR
from console.core.timeline import OUTCOME_UNKNOWN, epoch
from console.engine.incidents.export import export_incident, incident_events
from console.engine.incidents.lifecycle import get_incident
from console.engine.store.base import StoreLike
from console.engine.store.events import EventLog, NewEvent
from console.engine.store.sqlite import Store

PAY = "checkout:POST /pay"
SECRET = "psp-live-9f8e7d6c5b4a"
TOKEN = "tok-abcdef-123456"


@pytest.fixture(autouse=True)
def clean_redactor() -> Iterator[None]:
    REDACTOR.clear()
    yield
    REDACTOR.clear()


def cli(capsys: pytest.CaptureFixture[str], db: Path | str, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(db), *args])
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.fixture
def incident_db(
    store_url: str,
    stores: Callable[[], StoreLike],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """Open, note, run the rollback runbook from the incident, crash mid-action, resolve
    (on each engine: the store's file or URL)."""
    db = store_url
    assert cli(capsys, db, "incident", "open", "--title", "Pay timeouts", "--function", PAY)[0] == 0
    assert cli(capsys, db, "incident", "note", "INC-0001", "trace 4bf92f3577b34da6a3ce929d0e0e4736 shows the PSP call hanging")[0] == 0  # fmt: skip
    rc, _, err = cli(capsys, db, "run", "rollback-bad-deploy", "--function", PAY,
                     "--incident", "INC-0001", "--yes")  # fmt: skip
    assert rc == 0, err
    # A second run whose process died between an action's intent and its result, written
    # the way the executor writes, by a process that did not know the secret (raw values).
    store = stores()
    log = EventLog(store)
    common = {"incident_id": "INC-0001", "run_id": "deadbeef0001", "function_id": PAY}
    log.append(NewEvent("run.started", {"runbook": "throttle-caller",
                               "params": {"note": SECRET, "api_token": TOKEN}}, **common))  # fmt: skip
    log.append(NewEvent("step.intent", {"step": "throttle", "kind": "action", "target": PAY,
                               "attempt": 1, "what": "demo: throttle callers to 50 rps"}, **common))  # fmt: skip
    log.append(NewEvent("action.intent", {"action": "circuit_open", "step": "breaker",
                                 "params": {"dependency": "psp", "authorization": f"Bearer {TOKEN}",
                                            "comment": f"key {SECRET}"},
                                 "trace_id": "0af7651916cd43dd8448eb211c80319c"}, **common))  # fmt: skip
    store.close()
    monkeypatch.setenv("CALLBOARD_SECRET_PSP_KEY", SECRET)  # the export process knows it
    assert cli(capsys, db, "incident", "resolve", "INC-0001")[0] == 0
    REDACTOR.clear()
    return db


def test_every_format_has_every_event_sorted_and_no_secret(
    stores: Callable[[], StoreLike],
    incident_db: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = stores()
    events = incident_events(store, "INC-0001")
    kinds = {e.kind for e in events}
    assert {"incident.opened", "finding.appeared", "deploy.seen", "note", "run.started",
            "step.intent", "step.result", "run.ended", "status.changed"} <= kinds  # fmt: skip
    ids = [e.id for e in events]
    out: dict[str, str] = {}
    for fmt in ("md", "json", "csv", "html"):
        path = tmp_path / f"pm.{fmt}"
        rc, _, err = cli(
            capsys, incident_db, "export", "INC-0001", "--format", fmt, "-o", str(path)
        )
        assert rc == 0, err
        out[fmt] = path.read_text(encoding="utf-8")
        assert SECRET not in out[fmt] and TOKEN not in out[fmt], fmt

    doc = json.loads(out["json"])
    assert set(doc) >= {"incident", "events", "impact"}
    assert sorted(e["id"] for e in doc["events"]) == sorted(ids)
    times = [epoch(e["at"]) or 0.0 for e in doc["events"]]
    assert times == sorted(times)
    assert doc["impact"]["peak_error_rate"] > 0.05 and doc["impact"]["ongoing"] is False

    rows = list(csv.DictReader(io.StringIO(out["csv"])))
    assert [r["id"] for r in rows if r["kind"] != "milestone"] == [e["id"] for e in doc["events"]]
    assert [r["summary"].split(":")[0] for r in rows if r["kind"] == "milestone"] == [
        "Onset", "Detected", "Opened", "Mitigated", "Resolved"]  # fmt: skip

    section = out["md"].split("## Timeline (UTC)")[1].split("## Actions taken")[0]
    timeline = [line for line in section.splitlines() if re.match(r"^\| \d{4}-\d\d-\d\dT", line)]
    assert len(timeline) == len(ids)
    md_times = [epoch(line.split("|")[1].strip()) or 0.0 for line in timeline]
    assert md_times == sorted(md_times)
    for heading in ("## Summary", "## Impact", "## Timeline (UTC)", "## Actions taken",
                    "## Linked traces", "## Follow-ups"):  # fmt: skip
        assert heading in out["md"]
    assert "0af7651916cd43dd8448eb211c80319c" in out["md"]

    html_seqs = [int(s) for s in re.findall(r'<tr[^>]* id="ev-(\d+)"', out["html"])]
    assert sorted(html_seqs) == sorted(e.seq for e in events)
    assert html_seqs == [r["seq"] for r in doc["events"]]


def test_html_is_self_contained_and_marks_each_action(
    stores: Callable[[], StoreLike], incident_db: str
) -> None:
    store = stores()
    html = export_incident(store, "INC-0001", "html")
    pm = build_postmortem(get_incident(store, "INC-0001"), incident_events(store, "INC-0001"))
    # rollback (ran), throttle (crashed), circuit_open (crashed)
    assert len(pm.actions) == 3
    marks = re.findall(r'<g class="action-mark" data-action="([^"]*)" data-at="([^"]*)"', html)
    assert [at for _, at in marks] == [a.at for a in pm.actions]
    assert '<polyline class="series"' in html
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)=["\']?(https?:)?//', html)


def test_a_crash_between_intent_and_result_shows_outcome_unknown(
    stores: Callable[[], StoreLike], incident_db: str
) -> None:
    store = stores()
    pm = build_postmortem(get_incident(store, "INC-0001"), incident_events(store, "INC-0001"))
    outcomes = {a.action.split(":")[0]: a.outcome for a in pm.actions}
    assert outcomes["rollback"] == "ok"
    assert outcomes["throttle"] == OUTCOME_UNKNOWN
    assert outcomes["breaker"] == OUTCOME_UNKNOWN
    md = export_incident(store, "INC-0001", "md")
    intent_lines = [line for line in md.splitlines() if "Step throttle (action)" in line]
    assert len(intent_lines) == 1 and "OUTCOME UNKNOWN" in intent_lines[0]
    assert "Confirm what “throttle: demo: throttle callers to 50 rps”" in md
    doc = json.loads(export_incident(store, "INC-0001", "json"))
    crashed = [e for e in doc["events"] if e["outcome"] == OUTCOME_UNKNOWN]
    assert {e["kind"] for e in crashed} == {"step.intent", "action.intent"}


def test_secret_known_at_write_time_never_reaches_the_file(tmp_path: Path) -> None:
    REDACTOR.add(SECRET, "psp-key")
    store = Store(tmp_path / "s.db")
    EventLog(store).append(
        NewEvent("action.intent", {"params": {"x": SECRET}}, incident_id="INC-0001")
    )
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("s.db*"))
    assert SECRET.encode() not in raw
