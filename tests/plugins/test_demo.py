"""The demo fleet: deterministic, visibly broken in ten ways, and curable by the right action."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from callboard_demo import DemoPlugin

from console.plugin_api import (
    ActionError,
    ActionRequest,
    BadResponse,
    Function,
    MemoryState,
    PluginContext,
    PluginState,
    Signals,
    TraceQuery,
)

NOW = 1_800_000_000.0

# The default diagnosis thresholds, restated here on purpose (the rules live in core).
MIN_RPS = 0.1


def num(x: float | None) -> float:
    """A measurement the test expects to be there."""
    assert x is not None
    return x


def fired(fn: Function, s: Signals, b: Signals) -> dict[str, float]:
    """Mode -> how far past its threshold the signals are (1.0 = exactly at it)."""
    out: dict[str, float] = {}

    def hit(mode: str, ratio: float) -> None:
        if ratio >= 1.0:
            out[mode] = max(out.get(mode, 0.0), ratio)

    cpu, mem, q = s.cpu or 0.0, s.memory or 0.0, s.queue_length
    hit("F7", max(cpu / 0.90, mem / 0.90))
    if q is not None and b.queue_length and q >= 100:
        hit("F7", q / (5 * b.queue_length))
    if s.rate_rps is None or s.rate_rps < MIN_RPS:
        return out
    rate = s.rate_rps
    hit("F1", (s.timeout_rate or 0.0) / 0.02)
    if s.p99_ms and b.p99_ms:
        slo = fn.slo.latency_p99_ms
        if slo is None or s.p99_ms >= slo:
            hit("F1", s.p99_ms / (3 * b.p99_ms))
    hit("F2", (s.throttle_rate or 0.0) / 0.01)
    rr = s.retry_rate or 0.0
    if b.rate_rps and rate >= 2 * b.rate_rps:
        hit("F3", rr / 0.10)
    hit("F3", rr / 0.30)
    if s.cold_start_rate is not None and s.p99_ms and b.p99_ms:
        hit("F4", min(s.cold_start_rate / 0.05, s.p99_ms / (2 * b.p99_ms)))
    fi = s.failing_instances
    if fi is not None and 0.05 <= fi <= 0.95:
        hit("F5", min(fi / 0.05, (s.error_5xx_rate or 0.0) / 0.01))
    hit("F6", (s.auth_error_rate or 0.0) / 0.02)
    hit("F8", (s.serialization_error_rate or 0.0) / 0.02)
    hit("F9", max(s.dependency_errors.values(), default=0.0) / 0.20)
    if s.cost_per_1k is not None and b.cost_per_1k:
        hit("F10", s.cost_per_1k / (3 * b.cost_per_1k))
        if b.rate_rps:
            hit("F10", rate / (5 * b.rate_rps))
    return out


def closeness(fn: Function, s: Signals, b: Signals) -> float:
    """How close a healthy function comes to any threshold (1.0 would fire)."""
    worst = (s.timeout_rate or 0.0) / 0.02
    worst = max(worst, (s.throttle_rate or 0.0) / 0.01)
    worst = max(worst, (s.retry_rate or 0.0) / 0.10, (s.auth_error_rate or 0.0) / 0.02)
    worst = max(worst, (s.serialization_error_rate or 0.0) / 0.02)
    worst = max(worst, max(s.dependency_errors.values(), default=0.0) / 0.20)
    if s.p99_ms and b.p99_ms:
        worst = max(worst, s.p99_ms / (2 * b.p99_ms))
    if s.cold_start_rate is not None:
        worst = max(worst, s.cold_start_rate / 0.05)
    if s.cost_per_1k is not None and b.cost_per_1k:
        worst = max(worst, s.cost_per_1k / (3 * b.cost_per_1k))
    if s.queue_length is not None and b.queue_length:
        worst = max(worst, s.queue_length / (5 * b.queue_length))
    if s.failing_instances:
        worst = max(worst, s.failing_instances / 0.05)
    return worst


EXPECTED = {
    "checkout:POST /pay": "F1",
    "inventory:rpc Reserve": "F2",
    "orders:worker reserve-stock": "F3",
    "search:serverless query": "F4",
    "cart:rpc GetCart": "F5",
    "notifications:worker email-send": "F6",
    "reports:job nightly": "F7",
    "profile:PUT /profile": "F8",
    "payments:rpc Authorize": "F9",
    "media:serverless resize-image": "F10",
}


def make(state: PluginState | None = None, clock: float = NOW, **options: Any) -> DemoPlugin:
    ctx = PluginContext(
        http=None,
        secret=lambda name: "",
        clock=lambda: clock,
        state=state if state is not None else MemoryState(),
        options=options.pop("context_options", {}),
    )
    return DemoPlugin("demo", options, ctx)


async def snapshot(p: DemoPlugin) -> tuple[list[Function], dict[str, Signals], dict[str, Signals]]:
    fns = await p.functions()
    return fns, await p.signals(fns, "5m"), await p.baselines(fns)


async def findings(p: DemoPlugin) -> dict[str, dict[str, float]]:
    fns, sig, base = await snapshot(p)
    found = {fn.id: fired(fn, sig[fn.id], base[fn.id]) for fn in fns}
    return {fid: modes for fid, modes in found.items() if modes}


# -- the fleet ----------------------------------------------------------------------------


async def test_default_fleet_has_the_shape_of_a_real_company() -> None:
    fns = await make().functions()
    assert 40 <= len(fns) <= 60
    assert len({f.owner for f in fns}) >= 6
    assert len({f.service for f in fns}) >= 8
    assert {f.kind.value for f in fns} == {"http", "rpc", "serverless", "worker", "job"}
    ids = {f.id for f in fns}
    assert len(ids) == len(fns)
    for f in fns:
        assert f.id == Function.make_id(f.service, f.operation)
        assert f.owner and f.oncall and f.tier in (1, 2, 3)
        assert all(d in ids or d == "bank-gateway" for d in f.dependencies)
        if f.tier == 1 and f.kind.value == "http":
            assert f.slo.latency_p99_ms is not None
    assert "checkout:POST /pay" in ids and "payments:rpc Authorize" in ids


async def test_same_seed_same_fleet_and_numbers_another_seed_differs() -> None:
    a, b, c = make(seed=7), make(seed=7), make(seed=8)
    fa, sa, _ = await snapshot(a)
    fb, sb, _ = await snapshot(b)
    fc, sc, _ = await snapshot(c)
    assert fa == fb and sa == sb
    assert fa != fc
    assert sa["checkout:GET /checkout"] != sc["checkout:GET /checkout"]


async def test_each_refresh_moves_a_little_but_tick_zero_is_fixed() -> None:
    p = make()
    fns = await p.functions()
    first = await p.signals(fns, "5m")
    second = await p.signals(fns, "5m")
    fid = "cart:GET /cart"
    assert first[fid] != second[fid]
    assert first[fid].rate_rps == pytest.approx(second[fid].rate_rps, rel=0.1)
    assert (await make().signals(fns, "5m")) == first


# -- the scenario ------------------------------------------------------------------------


async def test_every_failure_crosses_its_threshold_by_a_margin_and_nothing_else_fires() -> None:
    found = await findings(make())
    assert set(found) == set(EXPECTED)
    for fid, mode in EXPECTED.items():
        assert set(found[fid]) == {mode}, (fid, found[fid])
        margin = 1.05 if mode == "F7" else 1.5  # memory cannot exceed 100%
        assert found[fid][mode] >= margin, (fid, found[fid])
    assert len(set(EXPECTED.values())) >= 7


async def test_healthy_functions_stay_well_below_every_threshold() -> None:
    p = make()
    fns = await p.functions()
    for _ in range(5):  # a few ticks: the wobble must never reach a threshold
        sig, base = await p.signals(fns, "5m"), await p.baselines(fns)
        for fn in fns:
            if fn.id not in EXPECTED:
                s = sig[fn.id]
                assert closeness(fn, s, base[fn.id]) < 0.6, fn.id
                assert max(s.cpu or 0.0, s.memory or 0.0) < 0.75, fn.id  # threshold 0.90


async def test_fields_a_kind_does_not_have_stay_none() -> None:
    _, sig, _ = await snapshot(make())
    http, rpc = sig["checkout:GET /checkout"], sig["payments:rpc Capture"]
    serverless, worker, job = (
        sig["media:serverless transcode"], sig["notifications:worker push-send"],
        sig["reports:job weekly-revenue"],
    )  # fmt: skip
    for s in (http, rpc, worker, job):
        assert s.cold_start_rate is None and s.cost_per_1k is None
    for s in (http, rpc, serverless, job):
        assert s.queue_length is None
    assert http.retry_rate is None and rpc.retry_rate is not None
    assert serverless.cpu is None and serverless.memory is not None
    assert serverless.cold_start_rate is not None and serverless.cost_per_1k is not None
    assert worker.queue_length is not None and job.failing_instances is None


async def test_burn_windows_short_ones_burn_hardest_and_requests_match_rate() -> None:
    _, sig, _ = await snapshot(make())
    s = sig["checkout:POST /pay"]
    er = s.error_ratio
    assert set(er) == {"5m", "30m", "1h", "6h", "3d", "30d"}
    assert er["5m"] > er["1h"] > er["6h"] > er["3d"] > er["30d"]
    assert er["5m"] / 0.001 > 14.4 and er["1h"] / 0.001 > 14.4  # pages
    assert s.requests["1h"] == pytest.approx(num(s.rate_rps) * 3600, rel=0.15)
    assert s.success_rate == pytest.approx(1 - num(s.error_5xx_rate) - num(s.timeout_rate))
    assert s.availability == pytest.approx(1 - er["30d"])
    healthy = sig["cart:GET /cart"].error_ratio
    assert max(healthy.values()) < 0.5 * 0.001


# -- actions and their cures --------------------------------------------------------------

CURES = [
    (ActionRequest("rollback", "checkout:POST /pay"), ["checkout:POST /pay"]),
    (ActionRequest("throttle", "orders:worker reserve-stock", {"rps": 50}),
     ["orders:worker reserve-stock", "inventory:rpc Reserve"]),
    (ActionRequest("circuit_open", "orders:worker reserve-stock"),
     ["orders:worker reserve-stock", "inventory:rpc Reserve"]),
    (ActionRequest("scale", "search:serverless query", {"min_instances": 2}),
     ["search:serverless query"]),
    (ActionRequest("restart", "cart:rpc GetCart"), ["cart:rpc GetCart"]),
    (ActionRequest("restart", "notifications:worker email-send"),
     ["notifications:worker email-send"]),
    (ActionRequest("rollback", "notifications:worker push-send"),
     ["notifications:worker email-send"]),
    (ActionRequest("scale", "reports:job nightly", {"replicas": 3}), ["reports:job nightly"]),
    (ActionRequest("rollback", "profile:PUT /profile"), ["profile:PUT /profile"]),
    (ActionRequest("circuit_open", "payments:rpc Authorize", {"dependency": "bank-gateway"}),
     ["payments:rpc Authorize"]),
    (ActionRequest("throttle", "media:serverless resize-image", {"rps": 12}),
     ["media:serverless resize-image"]),
]  # fmt: skip


@pytest.mark.parametrize(("request_", "cured"), CURES, ids=lambda x: getattr(x, "action", ""))
async def test_each_cure_clears_its_failure_on_the_next_refresh(
    request_: ActionRequest, cured: list[str]
) -> None:
    p = make()
    before = await findings(p)
    result = await p.execute(await p.plan(request_))
    assert result.ok
    after = await findings(p)
    for fid in cured:
        assert fid in before and fid not in after, (fid, after.get(fid))
    assert set(after) == set(before) - set(cured)  # nothing else changed


async def test_rollback_cures_the_timeout_numbers() -> None:
    p = make()
    fns = await p.functions()
    pay = "checkout:POST /pay"
    assert num((await p.signals(fns, "5m"))[pay].timeout_rate) >= 0.05
    plan = await p.plan(ActionRequest("rollback", pay))
    assert plan.summary == "roll back checkout from v2.14.0 to v2.13.2"
    assert plan.changes and plan.mutates
    await p.execute(plan)
    s = (await p.signals(fns, "5m"))[pay]
    assert num(s.timeout_rate) < 0.02 and num(s.p99_ms) < 1000
    again = await p.plan(ActionRequest("rollback", pay))
    assert again.summary == "roll back checkout from v2.13.2 to v2.13.1"


async def test_throttling_the_caller_ends_the_storm_and_the_callees_429s() -> None:
    p = make()
    fns = await p.functions()
    plan = await p.plan(ActionRequest("throttle", "orders:worker reserve-stock"))
    assert plan.summary == "throttle orders:worker reserve-stock to 50 rps"
    await p.execute(plan)
    s = await p.signals(fns, "5m")
    assert num(s["orders:worker reserve-stock"].retry_rate) < 0.1
    assert num(s["orders:worker reserve-stock"].rate_rps) <= 50
    assert num(s["inventory:rpc Reserve"].throttle_rate) < 0.01


async def test_circuit_close_undoes_circuit_open() -> None:
    p = make()
    auth = "payments:rpc Authorize"
    await p.execute(await p.plan(ActionRequest("circuit_open", auth)))
    assert auth not in await findings(p)
    await p.execute(await p.plan(ActionRequest("circuit_close", auth)))
    assert "F9" in (await findings(p))[auth]


async def test_an_action_that_misses_the_failure_changes_nothing() -> None:
    p = make()
    before = await findings(p)
    for req in (
        ActionRequest("restart", "checkout:POST /pay"),
        ActionRequest("throttle", "cart:GET /cart", {"rps": 5}),
        ActionRequest("scale", "checkout:GET /checkout", {"replicas": 0}),
        ActionRequest("annotate", "checkout:POST /pay", {"text": "looking"}),
    ):
        await p.execute(await p.plan(req))
    assert set(await findings(p)) == set(before)


async def test_actions_persist_across_instances_until_reset() -> None:
    state = MemoryState()
    first = make(state)
    await first.execute(await first.plan(ActionRequest("rollback", "profile:PUT /profile")))
    later = make(state, clock=NOW + 600)
    assert "profile:PUT /profile" not in await findings(later)
    assert isinstance(state.get("applied"), list)
    deploys = await later.deploys(None, NOW - 3600)
    assert deploys[0].description.startswith("rollback of v3.8.0")
    await later.reset()
    make(state).reset()  # also callable without await
    assert state.get("applied") is None
    assert "profile:PUT /profile" in await findings(make(state))


@pytest.mark.parametrize(
    ("action", "fid", "params", "message"),
    [
        ("reboot", "checkout:POST /pay", {}, "unknown action"),
        ("restart", "nope:GET /", {}, "no function"),
        ("scale", "reports:job nightly", {"replicas": -1}, "≥ 0"),
        ("scale", "reports:job nightly", {"replicas": "three"}, "whole number"),
        ("scale", "reports:job nightly", {"replicas": True}, "whole number"),
        ("scale", "reports:job nightly", {}, "needs replicas"),
        ("scale", "search:serverless query", {"replicas": 2}, "min_instances"),
        ("throttle", "orders:worker reserve-stock", {"rps": 0}, "> 0"),
        ("throttle", "orders:worker reserve-stock", {"rps": "fast"}, "> 0"),
        ("throttle", "orders:worker reserve-stock", {"qps": 3}, "unknown parameter"),
        ("circuit_open", "profile:PUT /profile", {}, "no dependency"),
        ("circuit_open", "payments:rpc Authorize", {"dependency": "x"}, "does not call"),
        ("silence", "checkout:POST /pay", {"duration": "soon"}, "duration"),
        ("annotate", "checkout:POST /pay", {}, "text"),
    ],
)
async def test_plan_rejects_bad_requests(
    action: str, fid: str, params: Mapping[str, Any], message: str
) -> None:
    with pytest.raises(ActionError, match=message):
        await make().plan(ActionRequest(action, fid, params))


# -- alerts, deploys, series --------------------------------------------------------------


async def test_alerts_fire_for_the_failures_and_resolve_after_the_cure() -> None:
    p = make()
    alerts = {a.function_id: a for a in await p.alerts()}
    pay = alerts["checkout:POST /pay"]
    assert pay.state == "firing" and pay.severity == "page"
    assert pay.labels["service"] == "checkout" and pay.labels["function"] == "POST /pay"
    assert pay.since == "2027-01-15T07:40:00Z"  # 20 minutes before NOW
    assert {a.severity for a in alerts.values()} >= {"page"}
    await p.execute(await p.plan(ActionRequest("silence", "cart:rpc GetCart")))
    await p.execute(await p.plan(ActionRequest("rollback", "checkout:POST /pay")))
    alerts = {a.function_id: a for a in await p.alerts()}
    assert "checkout:POST /pay" not in alerts
    assert alerts["cart:rpc GetCart"].state == "suppressed"


async def test_deploys_name_the_bad_changes_with_versions() -> None:
    p = make()
    recent = await p.deploys(None, NOW - 4 * 3600)
    by_version = {d.version: d for d in recent}
    bad = by_version["v2.14.0"]
    assert bad.function_id == "checkout" and bad.previous_version == "v2.13.2" and bad.author
    assert by_version["config r42"].description == "config: rotate smtp credentials"
    assert "v1.22.0" in by_version and "v5.2.1" in by_version  # bad and harmless alike
    assert "v4.4.0" not in by_version  # six hours ago
    fns = {f.id: f for f in await p.functions()}
    only = await p.deploys(fns["search:serverless query"], NOW - 4 * 3600)
    assert [d.version for d in only] == ["config r118"]


async def test_series_shows_the_failure_starting_at_its_cause() -> None:
    p = make()
    fns = {f.id: f for f in await p.functions()}
    points = await p.series(fns["checkout:POST /pay"], "p99_ms", NOW - 3600, NOW, 60)
    assert len(points) == 61
    before = [v for t, v in points if t < NOW - 20 * 60]
    after = [v for t, v in points if t > NOW - 19 * 60]
    assert max(before) < 500 < 4000 < min(after)
    assert points == await make().series(fns["checkout:POST /pay"], "p99_ms", NOW - 3600, NOW, 60)
    assert await p.series(fns["checkout:GET /checkout"], "queue_length", NOW - 600, NOW, 60) == []


# -- traces ------------------------------------------------------------------------------

HEX32, HEX16 = re.compile(r"^[0-9a-f]{32}$"), re.compile(r"^[0-9a-f]{16}$")


async def error_spans(p: DemoPlugin, service: str, operation: str) -> list[Any]:
    found = await p.find_traces(TraceQuery(service, operation, errors_only=True, limit=5))
    assert found and all((t.error_count or 0) > 0 for t in found)
    trace = await p.trace(found[0].trace_id)
    assert trace is not None
    errors = [s for s in trace.spans if s.status == "error"]
    # the first error span is where the failure began: an error span with no error below it
    first = next(s for s in trace.spans if s.span_id == trace.first_error_span_id)
    assert first.status == "error"
    assert not any(s.parent_id == first.span_id for s in errors)
    return errors


async def test_traces_are_well_formed_and_reproducible() -> None:
    a, b = make(), make()
    q = TraceQuery("checkout", limit=10)
    found = await a.find_traces(q)
    assert found == await b.find_traces(q)
    assert len(found) == 10 and (found[0].error_count or 0) > 0
    for summary in found:
        trace = await a.trace(summary.trace_id)
        assert trace is not None and trace == await b.trace(summary.trace_id)
        ids = {s.span_id for s in trace.spans}
        assert HEX32.match(trace.trace_id) and all(HEX16.match(i) for i in ids)
        assert len(ids) == len(trace.spans)
        assert next(s for s in trace.spans if s.parent_id is None).name == summary.root_name
        assert all(s.parent_id is None or s.parent_id in ids for s in trace.spans)
        assert all(s.start_ns > 0 and s.duration_ns > 0 for s in trace.spans)
    assert await a.trace("0" * 32) is None and await a.trace("not-a-trace") is None
    assert await make(seed=8).trace(found[0].trace_id) is None


async def test_error_spans_tell_the_failures_story() -> None:
    p = make()
    db = await error_spans(p, "checkout", "POST /pay")
    assert any(
        "statement timeout" in s.status_message and s.attributes.get("db.system") for s in db
    )
    storm = await error_spans(p, "orders", "worker reserve-stock")
    assert any(
        s.service == "inventory" and s.attributes.get("http.status_code") == 429 for s in storm
    )
    mail = await error_spans(p, "notifications", "worker email-send")
    assert any(s.attributes.get("http.status_code") == 401 for s in mail)
    bank = await error_spans(p, "payments", "rpc Authorize")
    assert any(s.attributes.get("peer.service") == "bank-gateway" for s in bank)
    shard = await error_spans(p, "cart", "rpc GetCart")
    assert any("Connection refused" in s.status_message for s in shard)
    schema = await error_spans(p, "profile", "PUT /profile")
    assert any(
        e["attributes"]["exception.type"] == "ValidationError" for s in schema for e in s.events
    )


async def test_traces_after_the_cure_are_healthy() -> None:
    p = make(clock=NOW)
    await p.execute(await p.plan(ActionRequest("rollback", "checkout:POST /pay")))
    later = make(p.context.state, clock=NOW + 900)
    q = TraceQuery("checkout", "POST /pay", start_ns=int((NOW + 60) * 1e9), limit=10)
    found = await later.find_traces(q)
    assert found and all(t.duration_ms < 3000 and (t.error_count or 0) <= 1 for t in found)


async def test_healthy_services_still_have_the_odd_retried_error() -> None:
    found = await make().find_traces(TraceQuery("cart", "GET /cart", errors_only=True))
    assert found and all(t.error_count == 1 for t in found)


# -- scale, options, health -----------------------------------------------------------------


async def test_ten_thousand_functions_keep_the_scenario() -> None:
    p = make(context_options={"demo_size": 10_000})
    fns = await p.functions()
    assert len(fns) == 10_000 and len({f.id for f in fns}) == 10_000
    sig = await p.signals(fns, "5m")
    assert len(sig) == 10_000
    base = await p.baselines(fns)
    broken = {f.id for f in fns if fired(f, sig[f.id], base[f.id])}
    assert broken == set(EXPECTED)


async def test_small_sizes_keep_the_failing_functions_first() -> None:
    fns = await make(size=12).functions()
    assert len(fns) == 12 and set(EXPECTED) <= {f.id for f in fns}


async def test_bad_windows_and_series_are_reported_not_guessed() -> None:
    p = make()
    fns = await p.functions()
    with pytest.raises(BadResponse, match="window"):
        await p.signals(fns, "soon")
    # a signal the demo keeps no history of is no data, as on Prometheus, never an error
    assert await p.series(fns[0], "happiness", NOW - 60, NOW, 10) == []
    with pytest.raises(BadResponse, match="points"):
        await p.series(fns[0], "p99_ms", NOW - 86400 * 30, NOW, 1)


async def test_check_and_bad_options() -> None:
    status = await make().check()
    assert status.ok and status.plugin == "demo" and status.latency_ms is not None
    for bad in ({"seed": "x"}, {"size": 0}, {"scenario": "chaos"}, {"colour": 1}):
        with pytest.raises(ValueError, match="demo"):
            make(**bad)


# -- the hot path: the stored state is read once per refresh ----------------------------


class CountingState(MemoryState):
    """A shared state (like the SQLite one two processes see) that counts its reads."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, key: str, default: Any = None) -> Any:
        self.reads += 1
        return super().get(key, default)


async def test_a_refresh_reads_the_stored_state_once_and_sees_another_process() -> None:
    from console.engine.fleet.refresh import Backend, Fleet

    shared = CountingState()
    tui = make(shared)
    fleet = Fleet([Backend("demo", "demo", tui)], clock=lambda: NOW)
    await fleet.refresh()
    shared.reads = 0
    snap = await fleet.refresh()
    assert shared.reads == 2  # one read of the epoch and one of the applied actions
    await tui.find_traces(TraceQuery(service="checkout"))
    assert shared.reads == 2  # between refreshes the last read is reused
    pay = "checkout:POST /pay"
    assert [f.mode.value for f in snap.by_id()[pay].findings] == ["F1"]

    other = make(shared)  # another process (e.g. `callboard run`) rolls checkout back
    await other.execute(await other.plan(ActionRequest("rollback", pay)))
    snap = await fleet.refresh()
    assert not snap.by_id()[pay].findings  # seen on the very next refresh
    assert any(d.author == "callboard" for d in snap.deploys[pay])


async def test_the_function_screens_history_leaves_the_demo_backend_ok(tmp_path: Path) -> None:
    """The function screen asks for every signal it shows (availability among them): one the
    demo keeps no history of must not turn the demo backend "failing" (a banner, a toast)."""
    from console.config import Config
    from console.engine.fleet.build import build_fleet
    from console.engine.store.sqlite import Store

    fleet = build_fleet(Config.demo_only(), store=Store(tmp_path / "cb.db"))
    snap = await fleet.refresh()
    fn = snap.functions[0].function
    for signal in ("availability", "error_rate"):
        await fleet.series(fn, signal, NOW - 600, NOW, 60)
    assert all(b.last_error is None for b in fleet.backends)
