"""Replaying an incident recorded by the real engine: the same findings, in the same order.

An incident is recorded here through the engine as the console records one — the demo
fleet refreshed on an injected clock, an incident opened on three failing functions, the
recorder writing each refresh, runbooks run for real (one cure undone, so a finding clears
and comes back), the incident mitigated — into a temporary store. The replay backend then
serves that store's timeline on its own injected clock, and the same recorder, recording
the replayed fleet into a second store, writes the same findings appearing and clearing in
the same order. Against the replay the cure runbook's dry run plans and its verify reads
the replayed moment; a real run is refused at its first mutating step.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console.config import Config, parse_config
from console.core.events import EventKind
from console.engine.fleet.build import build_fleet
from console.engine.fleet.refresh import Fleet
from console.engine.incidents.lifecycle import (
    iso_ms,
    mitigate,
    open_incident,
    record_snapshot,
    snapshot_signals,
)
from console.engine.replay import load_timeline, replay_config
from console.engine.runbooks.catalog import find_runbook
from console.engine.runbooks.executor import Executor
from console.engine.store.events import EventLog
from console.engine.store.sqlite import Store
from console.errors import UserError
from console.plugin_api import ActionError

SHIPPED = Path(__file__).resolve().parents[2] / "runbooks"
PAY, AUTHORIZE, RESERVE = (
    "checkout:POST /pay",
    "payments:rpc Authorize",
    "orders:worker reserve-stock",
)
T0 = 1_800_000_000.0


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += seconds


def at(t: float) -> str:
    from datetime import UTC, datetime

    return iso_ms(datetime.fromtimestamp(t, UTC).isoformat())


async def yes(_: Any) -> bool:
    return True


def appeared(store: Store, incident: str) -> list[tuple[str, str]]:
    return _kind(store, incident, EventKind.FINDING_APPEARED)


def cleared(store: Store, incident: str) -> list[tuple[str, str]]:
    return _kind(store, incident, EventKind.FINDING_CLEARED)


def _kind(store: Store, incident: str, kind: str) -> list[tuple[str, str]]:
    return [
        (e.data["mode"], e.function_id or "")
        for e in EventLog(store).iter()
        if e.incident_id == incident and e.kind == kind
    ]


async def _record(store: Store) -> str:
    """The incident: three failures, two cured, one cure undone and redone, mitigated."""
    clock = Clock(T0)
    fleet = build_fleet(Config.demo_only(), store=store, clock=clock, demo=True)
    ex = Executor(fleet, store, secret=lambda n: n, confirm=yes, sleep=clock.sleep)

    async def tick(seconds: float = 30.0) -> None:
        clock.t += seconds
        record_snapshot(store, await fleet.refresh())

    async def run(rb_id: str, fid: str, **params: Any) -> str:
        record = await ex.start(find_runbook(rb_id, [SHIPPED]), fid, params)
        assert record.status == "succeeded", record.to_json()
        await tick()
        return record.id

    try:
        # as the console opens one: with the refresh's signals, recorded at the next refresh
        functions = [RESERVE, AUTHORIZE, PAY]
        signals = snapshot_signals(await fleet.refresh(), functions)
        inc = open_incident(store, "Checkout down", functions, signals=signals, at=at(clock.t))
        await tick()
        await run("rollback-bad-deploy", PAY, recovered_below=0.02)
        await tick(120)
        circuit = await run("dependency-circuit-open", AUTHORIZE, dependency="bank-gateway")
        await tick(60)
        rb = find_runbook("dependency-circuit-open", [SHIPPED])
        undone = await ex.undo(rb, circuit, {"dependency": "bank-gateway"})
        assert undone.status == "undone"
        await tick()
        await run("retry-storm-throttle", RESERVE, rps=50.0)
        await run("dependency-circuit-open", AUTHORIZE, dependency="bank-gateway")
        await tick(300)  # a quiet stretch: the recorder samples the signals
        mitigate(store, inc.id, at=at(clock.t))
        return inc.id
    finally:
        await ex.aclose()
        await fleet.aclose()


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[tuple[Store, str]]:
    import asyncio

    store = Store(tmp_path / "recorded.db")
    try:
        incident = asyncio.run(_record(store))
        yield store, incident
    finally:
        store.close()


def replay_fleet(store: Store, incident: str, replayed_into: Store, clock: Clock) -> Fleet:
    config = parse_config(replay_config(store, incident), source="<replay>")
    return build_fleet(config, store=replayed_into, clock=clock)


async def test_a_replay_reproduces_the_findings_in_the_recorded_order(
    recorded: tuple[Store, str], tmp_path: Path
) -> None:
    store, incident = recorded
    order = appeared(store, incident)
    # what was recorded: three failures at the opening, F9 back after its undo
    assert order == [("F3", RESERVE), ("F9", AUTHORIZE), ("F1", PAY), ("F9", AUTHORIZE)]
    assert cleared(store, incident) == [
        ("F1", PAY), ("F9", AUTHORIZE), ("F3", RESERVE), ("F9", AUTHORIZE)
    ]  # fmt: skip
    timeline = load_timeline(store, incident)
    assert timeline.order() == order
    assert timeline.start is not None and timeline.end is not None
    # the replay, recorded by the same recorder into a second store, moment by moment
    replayed = Store(tmp_path / "replayed.db")
    clock = Clock(T0 + 86_400.0)  # a day later: the replay clock starts when it is first read
    fleet = replay_fleet(store, incident, replayed, clock)
    try:
        first = await fleet.refresh()
        assert {h.id for h in first.functions} == {PAY, AUTHORIZE, RESERVE}
        assert timeline.functions == (RESERVE, AUTHORIZE, PAY)  # the incident's, in order
        again = open_incident(replayed, "Checkout down (replay)", list(timeline.functions))
        record_snapshot(replayed, first)
        origin = clock.t
        for moment in timeline.times:
            clock.t = origin + (moment - timeline.start)
            record_snapshot(replayed, await fleet.refresh())
        assert appeared(replayed, again.id) == order
        assert cleared(replayed, again.id) == cleared(store, incident)
        # the end holds: nothing appears or clears past the last moment
        clock.t += 3600.0
        last = await fleet.refresh()
        assert not any(h.findings for h in last.functions)
    finally:
        await fleet.aclose()
        replayed.close()


async def test_the_cure_runbook_dry_runs_against_the_replayed_moment(
    recorded: tuple[Store, str], tmp_path: Path
) -> None:
    store, incident = recorded
    timeline = load_timeline(store, incident)
    assert timeline.start is not None
    cure = next(f for f in timeline.findings if f.mode == "F1")
    assert cure.cleared is not None
    replayed = Store(tmp_path / "replayed.db")
    clock = Clock(T0 + 86_400.0)
    fleet = replay_fleet(store, incident, replayed, clock)
    rb = find_runbook("rollback-bad-deploy", [SHIPPED])
    ex = Executor(fleet, replayed, secret=lambda n: n, confirm=yes, sleep=clock.sleep)
    try:
        await fleet.refresh()
        origin = clock.t
        dry = await ex.start(rb, PAY, {"recovered_below": 0.02}, dry_run=True)
        steps = {s.id: s for s in dry.steps}
        assert dry.status == "succeeded" and all(s.status == "planned" for s in dry.steps)
        assert "now timeout_rate = 0.08" in steps["confirm-symptom"].output
        assert "replay: rollback checkout:POST /pay" in steps["rollback"].output
        assert "read-only: this step would be refused" in steps["rollback"].output
        assert "now F1 present" in steps["finding-clears"].output
        # later in the replay, past the recorded rollback: the verify holds
        clock.t = origin + (cure.cleared - timeline.start) + 1.0
        later = await ex.start(rb, PAY, {"recovered_below": 0.02}, dry_run=True)
        steps = {s.id: s for s in later.steps}
        assert "now F1 not diagnosed" in steps["finding-clears"].output
        assert "holds < 0.02" in steps["timeouts-recover"].output
        # a real run against the replay is refused at its action: nothing is carried out
        clock.t = origin
        real = await ex.start(rb, PAY, {"recovered_below": 0.02}, no_incident=True)
        assert real.status == "refused"
        assert {s.id: s.status for s in real.steps}["rollback"] == "refused"
        plugin = fleet.backends[-1].plugin
        with pytest.raises(ActionError, match="never carried out"):
            await plugin.execute(await plugin.plan(real_request()))  # type: ignore[attr-defined]
    finally:
        await ex.aclose()
        await fleet.aclose()
        replayed.close()


def real_request() -> Any:
    from console.plugin_api import ActionRequest

    return ActionRequest("rollback", PAY, {})


def test_replay_config_names_the_incident_and_refuses_what_cannot_be_replayed(
    recorded: tuple[Store, str],
) -> None:
    store, incident = recorded
    config = replay_config(store, incident.lower())
    assert config == {
        "environment": {"name": f"replay-{incident.lower()}", "production": False},
        "read_only": True,
        "otlp": {"enabled": False},
        "backends": [
            {"name": "replay", "plugin": "replay", "incident": incident, "db": store.path}
        ],
    }
    fast = replay_config(store, incident, speed=60.0)
    assert fast["backends"][0]["speed"] == 60.0
    assert parse_config(fast).backends[0].options["speed"] == 60.0
    with pytest.raises(UserError, match="no incident 'INC-9999'"):
        replay_config(store, "INC-9999")
    memory = Store(":memory:")
    try:
        with pytest.raises(UserError):
            replay_config(memory, incident)
    finally:
        memory.close()
