"""Incident times: impact starts at onset (the deploy or the first finding or alert behind
the failure), not when someone pressed ``i``; MTTD/MTTA/MTTM/MTTR come from recorded events."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.cli import main
from console.config import Config
from console.core.incident_times import DEFAULT_ONSET_WINDOW_S, IncidentTimes, incident_times
from console.core.postmortem import build_postmortem
from console.engine.fleet.build import build_fleet
from console.engine.incidents import lifecycle as inc
from console.engine.incidents.export import export_incident
from console.engine.incidents.recorder import iso_ms
from console.engine.store.base import StoreLike
from console.engine.store.events import Event
from console.engine.store.sqlite import Store

PAY = "checkout:POST /pay"
#: The fixed clock: the demo's failures and deploys are placed relative to its first reading.
T = datetime(2026, 11, 26, 21, 0, tzinfo=UTC).timestamp()


def iso(t: float) -> str:
    return iso_ms(datetime.fromtimestamp(t, UTC).isoformat())


def demo_incident(store: StoreLike, *, resolve_after: float | None = 27.0) -> str:
    """``i`` on the demo's checkout:POST /pay at T (its bad deploy went out 20 minutes
    earlier), then — ``resolve_after`` seconds later — resolve it, with a fixed clock."""
    clock = [T]
    fleet = build_fleet(Config.demo_only(), store=store, clock=lambda: clock[0], runbooks={})

    async def go() -> None:
        try:
            snap = await fleet.refresh()
            opened = inc.open_incident(
                store, "Pay timeouts", [PAY], at=iso(T), signals=inc.snapshot_signals(snap, [PAY])
            )
            inc.record_snapshot(store, snap)
            if resolve_after is not None:
                clock[0] = T + resolve_after
                inc.record_snapshot(store, await fleet.refresh())
                inc.resolve(store, opened.id, at=iso(T + resolve_after))
        finally:
            await fleet.aclose()

    asyncio.run(go())
    return "INC-0001"


def impact_table(md: str) -> dict[str, str]:
    section = md.split("## Impact")[1].split("## Timeline")[0]
    out = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] and not cells[0].startswith("-"):
            out[cells[0]] = cells[1]
    return out


def test_demo_export_measures_impact_from_the_deploy_not_from_opening(any_store: StoreLike) -> None:
    store = any_store
    iid = demo_incident(store)
    md = export_incident(store, iid, "md", now=iso(T + 60))
    table = impact_table(md)
    # The deploy of checkout v2.14.0 went out 20 minutes before `i`: that is the onset.
    assert table["Onset (UTC)"].startswith(iso(T - 20 * 60))
    assert "deploy v2.14.0" in table["Onset (UTC)"]
    assert table["Duration"] == "20m 27s"  # was "27s": from opening
    assert table["Opened (UTC)"].startswith(iso(T))
    # The alert has fired since the failure began: detected at once, opened 20 min later.
    assert table["Time to detect (MTTD)"] == "0s"
    assert table["Time to open (MTTA)"] == "20m 0s"
    # Resolved without a separate mitigation: mitigation is the resolution (as recorded).
    assert table["Time to mitigate (MTTM)"] == "20m 27s"
    assert table["Time to resolve (MTTR)"] == "20m 27s"

    doc = json.loads(export_incident(store, iid, "json", now=iso(T + 60)))
    times = doc["times"]
    assert times["onset"] == iso(T - 20 * 60) and times["opened"] == iso(T)
    assert (times["time_to_detect_s"], times["time_to_open_s"]) == (0.0, 1200.0)
    assert times["time_to_resolve_s"] == 1227.0
    assert times["onset_window_s"] == DEFAULT_ONSET_WINDOW_S
    assert doc["impact"]["start"] == iso(T - 20 * 60) and doc["impact"]["duration_s"] == 1227.0

    html = export_incident(store, iid, "html", now=iso(T + 60))
    assert "Time to open (MTTA)</th><td>20m 0s" in html

    rows = list(csv.DictReader(io.StringIO(export_incident(store, iid, "csv", now=iso(T + 60)))))
    milestones = {r["summary"].split(":")[0]: r for r in rows if r["kind"] == "milestone"}
    assert milestones["Onset"]["at"] == iso(T - 20 * 60)
    assert "time to open (MTTA) 20m 0s" in milestones["Opened"]["summary"]
    assert "time to resolve (MTTR) 20m 27s" in milestones["Resolved"]["summary"]


def test_a_time_not_reached_is_not_yet_never_zero(any_store: StoreLike) -> None:
    store = any_store
    iid = demo_incident(store, resolve_after=None)
    table = impact_table(export_incident(store, iid, "md", now=iso(T + 90)))
    assert table["Mitigated (UTC)"] == "not yet" and table["Resolved (UTC)"] == "not yet"
    assert table["Time to mitigate (MTTM)"] == "not yet"
    assert table["Time to resolve (MTTR)"] == "not yet"
    assert table["Duration"] == "21m 30s so far"
    doc = json.loads(export_incident(store, iid, "json", now=iso(T + 90)))
    assert doc["times"]["time_to_mitigate_s"] is None and doc["times"]["mitigated"] is None
    csv_text = export_incident(store, iid, "csv", now=iso(T + 90))
    assert "Mitigated:" not in csv_text and "Resolved:" not in csv_text


class _Inc:
    """A stored incident's shape, for the pure computation."""

    def __init__(self, opened: str, mitigated: str | None = None, resolved: str | None = None):
        self.id, self.title, self.severity = "INC-0001", "t", "SEV2"
        self.status = "resolved" if resolved else "mitigated" if mitigated else "open"
        self.functions, self.opened_by = (PAY,), "me"
        self.opened_at, self.mitigated_at, self.resolved_at = opened, mitigated, resolved

    def to_json(self) -> dict[str, object]:
        return {"id": self.id}


def _ev(seq: int, kind: str, at: float, **data: object) -> Event:
    return Event(seq, f"e{seq}", iso(at), kind, "me", "INC-0001", None, PAY, dict(data), "", "")


def onset(times: IncidentTimes) -> tuple[str, str]:
    assert times.onset is not None
    return times.onset.at, times.onset.what


def test_a_deploy_counts_only_inside_the_onset_window() -> None:
    finding = _ev(2, "finding.appeared", T, mode="F1", name="Timeout")
    old = _ev(1, "deploy.seen", T - 2 * 3600, version="v9", deployed_at=iso(T - 2 * 3600))
    events = [old, finding]
    times = incident_times(_Inc(iso(T + 300)), events)
    assert onset(times) == (iso(T), f"finding F1 Timeout on {PAY}")
    assert (times.time_to_detect_s, times.time_to_open_s) == (0.0, 300.0)
    wide = incident_times(_Inc(iso(T + 300)), events, onset_window_s=3 * 3600)
    assert onset(wide) == (iso(T - 2 * 3600), f"deploy v9 on {PAY}")
    assert wide.time_to_detect_s == 7200.0
    # A deploy after the first finding (a rollback) is not behind it.
    after = _ev(3, "deploy.seen", T + 60, version="v8", deployed_at=iso(T + 60))
    assert onset(incident_times(_Inc(iso(T + 300)), [finding, after]))[0] == iso(T)


def test_without_any_finding_the_onset_is_the_opening_and_detection_is_absent() -> None:
    times = incident_times(_Inc(iso(T), resolved=iso(T + 600)), [])
    assert onset(times)[0] == iso(T) and times.detected is None
    assert times.time_to_detect_s is None and times.time_to_resolve_s == 600.0
    # A garbage alert start (Alertmanager's zero time) is not an onset 2,000 years ago.
    zero = _ev(1, "alert.firing", T + 5, name="A", since="0001-01-01T00:00:00Z")
    later = incident_times(_Inc(iso(T)), [zero])
    assert onset(later)[0] == iso(T) and later.detected is not None
    assert later.detected.at == iso(T + 5)


def test_peak_is_placed_when_it_was_observed() -> None:
    pm = build_postmortem(
        _Inc(iso(T), resolved=iso(T + 60)),
        [
            _ev(
                1,
                "deploy.seen",
                T - 600,
                version="v2",
                deployed_at=iso(T - 600),
                observed_at=iso(T),
                signals={PAY: {"error_rate": 0.2}},
            )
        ],
    )
    assert pm.impact.peak_at == iso(T)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_incident_show_prints_the_times(
    store_url: str, any_store: StoreLike, capsys: pytest.CaptureFixture[str]
) -> None:
    db = store_url
    demo_incident(any_store)
    rc, out, _ = cli(capsys, "--db", str(db), "incident", "show", "INC-0001")
    assert rc == 0
    assert f"onset {iso(T - 20 * 60)}" in out and "deploy v2.14.0" in out
    assert "MTTD 0s, MTTA 20m 0s, MTTM 20m 27s, MTTR 20m 27s" in out
    rc, out, _ = cli(capsys, "--db", str(db), "incident", "show", "INC-0001", "--json")
    assert json.loads(out)["times"]["time_to_open_s"] == 1200.0


def test_onset_window_from_config_is_validated_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("read_only: false\nincidents:\n  onset_window: soon\n")
    rc, _, err = cli(capsys, "--config", str(cfg), "check")
    assert rc == 2 and f"{cfg}:3: incidents.onset_window:" in err
    cfg.write_text("incidents: {onset_window: 3h}\n")
    from console.config import load_config

    assert load_config(cfg).incidents.onset_window_seconds == 3 * 3600.0
    # The export uses it: with no window at all, the deploy is not the onset.
    db = tmp_path / "cb.db"
    demo_incident(Store(db))
    cfg.write_text("incidents: {onset_window: 0s}\n")
    rc, out, _ = cli(capsys, "--config", str(cfg), "--db", str(db), "export", "INC-0001")
    assert rc == 0 and "deploy v2.14.0" not in impact_table(out)["Onset (UTC)"]
