"""The ``replay`` plugin on a store written by an older Callboard, and on hostile events.

``tests/stores/main-518581d`` holds INC-0001 as recorded by the release it is named after:
a bad deploy of checkout, F1 on POST /pay with its alert, a rollback, F1 and the alert
clearing 12 seconds into the recording. Replayed, the fleet shows exactly that, on the
fleet's clock: the deploy 20 minutes before the replay started, the rollback once seen.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from callboard_replay import ReplayPlugin

from console.config import parse_config
from console.core.events import Event
from console.engine.fleet.build import build_fleet
from console.engine.replay import replay_config
from console.engine.replay.timeline import MAX_TEXT, build_timeline, epoch
from console.engine.store.sqlite import Store
from console.errors import ActionError, BackendError
from console.plugin_api import ActionRequest, PluginContext

OLD = Path(__file__).resolve().parents[1] / "stores" / "main-518581d"
PAY = "checkout:POST /pay"
FIRST = epoch("2026-12-03T17:57:31.681Z")  # the first recorded moment (deploy seen, F1)
CLEARED = epoch("2026-12-03T17:57:43.682Z")  # F1 and its alert clear
WALL = 1_900_000_000.0


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    try:
        conn.executescript((OLD / "store.sql").read_text(encoding="utf-8"))
    finally:
        conn.close()
    return db


def plugin(db: Path, clock: Clock, **options: Any) -> ReplayPlugin:
    ctx = PluginContext(http=None, secret=lambda n: n, clock=clock)
    return ReplayPlugin("replay", {"incident": "inc-0001", "db": str(db), **options}, ctx)


async def test_the_old_stores_incident_replays_on_the_fleets_clock(old_db: Path) -> None:
    assert FIRST is not None and CLEARED is not None
    clock = Clock(WALL)
    p = plugin(old_db, clock)
    fns = await p.functions()
    assert [f.id for f in fns] == [PAY]
    assert (fns[0].service, fns[0].operation, fns[0].slo.objective) == (
        "checkout",
        "POST /pay",
        0.999,
    )
    s = (await p.signals(fns, "5m"))[PAY]
    assert s.timeout_rate == pytest.approx(0.08751653747558594)
    assert s.retry_rate is None  # not recorded: no data, never 0
    assert (await p.baselines(fns))[PAY].p99_ms == 340.0
    [alert] = await p.alerts()
    assert (alert.name, alert.state, alert.function_id) == ("CheckoutPayTimeouts", "firing", PAY)
    [deploy] = await p.deploys(None, 0.0)
    assert deploy.version == "v2.14.0"
    shown = epoch(deploy.at)  # deployed 20 minutes before the first moment, whole seconds
    assert shown is not None and abs(shown - (WALL - 1200.681)) < 1.0
    status = await p.check()
    assert status.ok and status.warnings == ("replaying INC-0001 (Pay timeouts): 0s of 13s",)
    # 13 seconds on: past the recorded rollback
    clock.t += 13.0
    s = (await p.signals(fns, "5m"))[PAY]
    assert s.timeout_rate == pytest.approx(5.923836847685718e-05)
    assert await p.alerts() == []
    assert [d.version for d in await p.deploys(None, 0.0)] == ["v2.13.2", "v2.14.0"]
    series = await p.series(fns[0], "timeout_rate", WALL - 60, clock.t, 1.0)
    assert series[0] == (WALL, pytest.approx(0.08751653747558594))  # nothing before the start
    assert series[-1][1] == pytest.approx(5.923836847685718e-05)
    assert await p.series(fns[0], "cpu", WALL, clock.t, 1.0) == []  # never recorded
    clock.t += 3600.0  # past the end: the fleet stays as it ended
    assert (await p.check()).warnings == ("replaying INC-0001 (Pay timeouts): at its end",)
    assert (await p.signals(fns, "5m"))[PAY].timeout_rate == pytest.approx(5.923836847685718e-05)


async def test_through_the_engine_the_finding_clears_when_the_recording_did(old_db: Path) -> None:
    store = Store(old_db)
    try:
        config = parse_config(replay_config(store, "INC-0001", speed=6.0))
    finally:
        store.close()
    clock = Clock(WALL)
    fleet = build_fleet(config, clock=clock, runbooks={})
    try:
        snap = await fleet.refresh()
        assert [f.mode.value for f in snap.by_id()[PAY].findings] == ["F1"]
        clock.t += 3.0  # 18 recorded seconds at speed 6: past the rollback, F1 cleared
        snap = await fleet.refresh()
        assert snap.by_id()[PAY].findings == ()
        assert fleet.read_only and not fleet.production
    finally:
        await fleet.aclose()


async def test_what_cannot_be_replayed_is_a_typed_error(old_db: Path, tmp_path: Path) -> None:
    clock = Clock(WALL)
    missing = plugin(tmp_path / "nowhere.db", clock)
    status = await missing.check()
    assert not status.ok and status.error == f"replay: no store at {tmp_path / 'nowhere.db'}"
    with pytest.raises(BackendError, match="no store"):
        await missing.functions()
    assert not (tmp_path / "nowhere.db").exists()  # never created by asking
    other = ReplayPlugin(
        "replay", {"incident": "INC-0042", "db": str(old_db)},
        PluginContext(http=None, secret=lambda n: n, clock=clock),
    )  # fmt: skip
    with pytest.raises(BackendError, match="no incident 'INC-0042'"):
        await other.signals([], "5m")
    for speed in (0, -1, "fast", float("nan"), 1e9, True):
        with pytest.raises(ValueError, match="speed"):
            plugin(old_db, clock, speed=speed)
    with pytest.raises(ValueError, match="incident"):
        ReplayPlugin("replay", {"incident": " "}, PluginContext(None, lambda n: n, clock))


async def test_actions_are_planned_and_never_carried_out(old_db: Path) -> None:
    p = plugin(old_db, Clock(WALL))
    plan = await p.plan(ActionRequest("throttle", PAY, {"rps": 5}))
    assert plan.mutates and plan.summary == f"throttle {PAY} (rps=5)"
    assert "not carried out" in plan.changes[0]
    with pytest.raises(ActionError, match="never carried out"):
        await p.execute(plan)
    with pytest.raises(ActionError, match="unknown action 'reboot'"):
        await p.plan(ActionRequest("reboot", PAY, {}))
    with pytest.raises(ActionError, match="no function 'cart:rpc GetCart' in INC-0001"):
        await p.plan(ActionRequest("restart", "cart:rpc GetCart", {}))


def event(seq: int, at: str, kind: str, fid: str | None, data: dict[str, Any]) -> Event:
    return Event(seq, f"e{seq}", at, kind, "x", "INC-0001", None, fid, data)


def test_hostile_recorded_data_is_bounded_and_cleaned() -> None:
    t = "2026-12-03T17:00:00.000Z"
    evil = "\x1b]52;c;cHduZWQ=\x07" + "x" * 10_000
    events = [
        event(1, t, "finding.appeared", PAY, {
            "mode": "F7", "evidence": evil,
            "values": {"memory": 0.99, "cpu": "hot", "queue_length": float("nan"), "x": True},
            "signals": {PAY: {"rate_rps": "lots", "p99_ms": float("inf"), "success_rate": 0.5,
                              "objective": 7, "slo_window": ["30d"]},
                        "ghost": "not a mapping", 3: {}},
        }),
        event(2, "not a time", "finding.appeared", PAY, {"mode": "F1", "signals": {}}),
        event(3, t, "alert.firing", PAY, {"name": evil, "labels": {"k": evil, 5: "x"}, "signals": []}),
        event(4, t, "deploy.seen", PAY, {"version": "v2", "deployed_at": "garbage",
                                         "observed_at": "2026-12-03T17:00:01Z"}),
        event(5, t, "finding.cleared", "other", {"mode": "F7"}),
    ]  # fmt: skip
    tl = build_timeline("INC-0001", evil, [PAY, 7], events)  # type: ignore[list-item]
    assert tl.functions == (PAY,)
    start = tl.start
    assert start is not None
    s = tl.signals_at(PAY, start)
    assert s is not None
    assert (s.memory, s.cpu, s.queue_length, s.rate_rps, s.p99_ms) == (0.99, None, None, None, None)
    assert s.success_rate == 0.5
    assert PAY not in tl.slos  # an objective of 7 is no objective
    assert tl.order() == [("F7", PAY)]  # the event without a time is not a moment
    [alert] = tl.alerts
    assert "\x1b" not in alert.name and len(alert.name) <= MAX_TEXT
    assert all("\x1b" not in v for v in alert.labels.values()) and 5 not in alert.labels
    assert "\x1b" not in tl.title and "\x1b" not in tl.findings[0].evidence
    assert [d.version for d in tl.deploys] == ["v2"]  # its time falls back to the event's


def test_an_incident_that_recorded_no_signals_cannot_be_replayed(tmp_path: Path) -> None:
    from console.engine.incidents.lifecycle import open_incident
    from console.engine.replay import load_timeline
    from console.errors import UserError

    store = Store(tmp_path / "db")
    try:
        inc = open_incident(store, "Nothing seen", [PAY])
        with pytest.raises(UserError, match="recorded no signals: nothing to replay"):
            load_timeline(store, inc.id)
    finally:
        store.close()


def test_the_replay_starts_at_the_recorders_first_moment() -> None:
    # opened in the console: the incident carries a refresh the recorder diagnoses only at
    # the next one, five seconds later; the replay starts there, with the findings
    high = {PAY: {"rate_rps": 40.0, "timeout_rate": 0.09, "success_rate": 0.91}}
    events = [
        event(1, "2026-12-03T17:00:00.000Z", "incident.opened", None, {"signals": high}),
        event(2, "2026-12-03T17:00:05.000Z", "finding.appeared", PAY,
              {"mode": "F1", "values": {"timeout_rate": 0.09}, "signals": high}),
        event(3, "2026-12-03T17:00:09.000Z", "note", None, {"text": "x", "signals": high}),
    ]  # fmt: skip
    tl = build_timeline("INC-0001", "t", [PAY], events)
    assert tl.start is not None and tl.start == epoch("2026-12-03T17:00:05.000Z")
    assert tl.times == (tl.start, epoch("2026-12-03T17:00:09.000Z"))
    assert tl.signals_at(PAY, tl.start - 1.0) is None
