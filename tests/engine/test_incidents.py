"""Incidents: lifecycle, ids, the CLI, and the recorder that fills the timeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.cli import main
from console.core.model import (
    SLO,
    Alert,
    Deploy,
    FailureMode,
    Finding,
    Function,
    Severity,
    Signals,
)
from console.core.snapshot import FleetSnapshot, FunctionHealth
from console.engine.incidents import lifecycle as inc
from console.engine.store.base import StoreLike
from console.engine.store.events import EventLog
from console.errors import UserError

PAY = "checkout:POST /pay"
FN = Function(id=PAY, service="checkout", operation="POST /pay", slo=SLO(0.999, "30d"))


def snap(
    at: str,
    *,
    success: float | None = 0.9,
    findings: tuple[FailureMode, ...] = (),
    alerts: tuple[str, ...] = (),
    deploys: tuple[Deploy, ...] = (),
    present: bool = True,
) -> FleetSnapshot:
    h = FunctionHealth(
        FN,
        Signals(success_rate=success, p99_ms=900.0, rate_rps=12.5, timeout_rate=0.05),
        tuple(Finding(PAY, m, Severity.PAGE, f"{m} evidence") for m in findings),
        alerts=tuple(Alert(a, "page", "firing", at) for a in alerts),
    )
    return FleetSnapshot(at, (h,) if present else (), (), deploys={"checkout": deploys})


def cli(capsys: pytest.CaptureFixture[str], db: Path | str, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(db), *args])
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_lifecycle_ids_and_status_events(any_store: StoreLike) -> None:
    store = any_store
    a = inc.open_incident(store, "Pay failing", [PAY], "sev1")
    b = inc.open_incident(store, "Search slow", ["search:GET /search"], "3")
    assert (a.id, a.severity, a.status) == ("INC-0001", "SEV1", "open")
    assert b.id == "INC-0002"
    inc.add_note(store, "inc-0001", "rolling back")
    assert inc.mitigate(store, a.id).mitigated_at is not None
    done = inc.resolve(store, a.id)
    assert done.status == "resolved" and done.resolved_at is not None
    with pytest.raises(UserError, match="already resolved"):
        inc.mitigate(store, a.id)
    kinds = [e.kind for e in EventLog(store).iter(incident_id=a.id)]
    assert kinds == ["incident.opened", "note", "status.changed", "status.changed"]
    assert [i.id for i in inc.list_incidents(store, active_only=True)] == ["INC-0002"]


@pytest.mark.parametrize(
    ("title", "fns", "sev", "match"),
    [("", [PAY], "SEV2", "title"), ("x", [], "SEV2", "function"), ("x", [PAY], "SEV9", "severity")],
)
def test_bad_input_is_a_user_error(
    any_store: StoreLike, title: str, fns: list[str], sev: str, match: str
) -> None:
    with pytest.raises(UserError, match=match):
        inc.open_incident(any_store, title, fns, sev)


def test_unknown_incident_names_itself(any_store: StoreLike) -> None:
    with pytest.raises(inc.IncidentNotFound, match="INC-0042"):
        inc.get_incident(any_store, "INC-0042")


def test_recorder_records_changes_once_with_signals(any_store: StoreLike) -> None:
    store = any_store
    i = inc.open_incident(store, "Pay failing", [PAY])
    d = Deploy("checkout", "v2", "2026-01-01T09:50:00+00:00", previous_version="v1")
    s1 = snap("2026-01-01T10:00:00Z", findings=(FailureMode.F1,), alerts=("Slow",), deploys=(d,))
    first = inc.record_snapshot(store, s1)
    assert [e.kind for e in first] == ["finding.appeared", "alert.firing", "deploy.seen"]
    assert first[2].at == "2026-01-01T09:50:00.000Z"  # placed at the deploy's own time
    sig = first[0].data["signals"][PAY]
    assert sig["error_rate"] == pytest.approx(0.1) and sig["p99_ms"] == 900.0
    assert sig["objective"] == 0.999 and sig["slo_window"] == "30d"
    # The same picture again, from another log object: nothing new (state is in the store).
    assert inc.record_snapshot(store, s1, log=EventLog(store)) == []
    # Backend down: the function is missing -> no data, not "cleared".
    assert inc.record_snapshot(store, snap("2026-01-01T10:00:30Z", present=False)) == []
    cleared = inc.record_snapshot(store, snap("2026-01-01T10:02:00Z", success=0.999))
    assert [e.kind for e in cleared] == ["finding.cleared", "alert.resolved"]
    assert all(e.incident_id == i.id and e.function_id == PAY for e in cleared)


def test_quiet_incident_gets_a_signal_sample_at_most_every_interval(any_store: StoreLike) -> None:
    store = any_store
    inc.open_incident(store, "Pay failing", [PAY])
    kinds = [
        [e.kind for e in inc.record_snapshot(store, snap(f"2026-01-01T10:0{m}:00Z"))]
        for m in (0, 0, 1, 1)
    ]
    assert kinds == [["signals.sampled"], [], ["signals.sampled"], []]


def test_resolved_incident_is_no_longer_recorded(any_store: StoreLike) -> None:
    store = any_store
    i = inc.open_incident(store, "Pay failing", [PAY])
    inc.resolve(store, i.id)
    assert (
        inc.record_snapshot(store, snap("2026-01-01T10:00:00Z", findings=(FailureMode.F1,))) == []
    )


def test_snapshot_signals_says_no_data_for_an_unknown_function() -> None:
    s = inc.snapshot_signals(snap("2026-01-01T10:00:00Z", success=None), [PAY, "gone:op"])
    assert s["gone:op"] is None
    assert s[PAY]["success_rate"] is None and s[PAY]["error_rate"] is None


def test_cli_lifecycle_on_the_demo_fleet(
    capsys: pytest.CaptureFixture[str], store_url: str
) -> None:
    db = store_url
    rc, out, _ = cli(capsys, db, "incident", "open", "--title", "Pay timeouts",
                     "--function", PAY, "--severity", "sev1", "--json")  # fmt: skip
    assert rc == 0
    opened = json.loads(out)
    assert opened["id"] == "INC-0001" and opened["severity"] == "SEV1"
    assert cli(capsys, db, "incident", "note", "INC-0001", "paging payments")[0] == 0
    assert cli(capsys, db, "incident", "mitigate", "INC-0001")[0] == 0
    rc, out, _ = cli(capsys, db, "incident", "show", "INC-0001", "--json")
    shown = json.loads(out)
    kinds = [e["kind"] for e in shown["events"]]
    # The demo's checkout:POST /pay times out after a deploy: recorded at open.
    assert {"incident.opened", "finding.appeared", "deploy.seen", "note"} <= set(kinds)
    assert shown["incident"]["status"] == "mitigated"
    rc, out, _ = cli(capsys, db, "incident", "list", "--json")
    assert [i["id"] for i in json.loads(out)["incidents"]] == ["INC-0001"]
    assert cli(capsys, db, "incident", "resolve", "INC-0001", "--no-refresh")[0] == 0
    rc, _, err = cli(capsys, db, "incident", "resolve", "INC-0001")
    assert rc == 2 and "already resolved" in err
    rc, _, err = cli(capsys, db, "incident", "show", "INC-0099")
    assert rc == 2 and "INC-0099" in err
