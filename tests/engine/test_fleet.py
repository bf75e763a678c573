"""The engine's refresh: batching, merging, stale data, timeouts, breakers."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from console.core.model import Alert, BackendStatus, Function, Signals
from console.engine.fleet.inventory import merge_functions, merge_signals
from console.engine.fleet.refresh import Backend, Fleet
from console.errors import BackendUnavailable, BadResponse


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class FakeMetrics:
    """Inventory + Metrics with a call counter and a switchable failure."""

    name = "fake"

    def __init__(self, n: int = 3) -> None:
        self.fns = [Function(id=f"svc:op{i}", service="svc", operation=f"op{i}") for i in range(n)]
        self.signal_calls = 0
        self.fail: Exception | None = None
        self.hang: asyncio.Event | None = None

    async def check(self) -> BackendStatus:
        return BackendStatus(name=self.name, plugin="fake", ok=True)

    async def aclose(self) -> None:
        pass

    async def functions(self) -> list[Function]:
        return self.fns

    async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
        self.signal_calls += 1
        if self.hang is not None:
            await self.hang.wait()
        if self.fail is not None:
            raise self.fail
        return {
            f.id: Signals(rate_rps=10.0, success_rate=0.99, error_5xx_rate=0.01, timeout_rate=0.0)
            for f in functions
        }

    async def series(self, *a: Any) -> list[tuple[float, float]]:
        return []


class FakeAlerts:
    name = "alerts"
    actions: ClassVar[frozenset[str]] = frozenset()

    async def check(self) -> BackendStatus:
        return BackendStatus(name=self.name, plugin="fake", ok=True)

    async def aclose(self) -> None:
        pass

    async def alerts(self) -> list[Alert]:
        return [
            Alert(
                name="HighErrorRate",
                severity="page",
                state="firing",
                since="t",
                labels={"service": "svc", "operation": "op1"},
            )
        ]


def fleet_of(*plugins: Any, clock: Clock | None = None, timeout: float = 1.0) -> Fleet:
    backends = [Backend(name=p.name, plugin_name="fake", plugin=p) for p in plugins]
    return Fleet(backends, clock=clock or Clock(), timeout=timeout, attempts=2)


async def test_one_signals_call_per_refresh_whatever_the_fleet_size() -> None:
    small, big = FakeMetrics(5), FakeMetrics(500)
    for plugin in (small, big):
        fleet = fleet_of(plugin)
        snap = await fleet.refresh()
        assert plugin.signal_calls == 1
        assert len(snap.functions) == len(plugin.fns)
        assert snap.functions[0].signals.success_rate == pytest.approx(0.99)


async def test_failing_backend_keeps_last_data_marked_stale_with_age() -> None:
    clock = Clock()
    plugin = FakeMetrics()
    fleet = fleet_of(plugin, clock=clock)
    await fleet.refresh()
    plugin.fail = BadResponse("malformed JSON from fake")
    clock.t += 42
    snap = await fleet.refresh()
    (status,) = snap.backends
    assert not status.ok
    assert status.error == "malformed JSON from fake"
    assert status.stale_s == 42
    # the last good numbers are still shown, not blanked and not zeroed
    assert snap.functions[0].signals.rate_rps == 10.0


async def test_backend_that_never_succeeded_shows_no_data_not_zero() -> None:
    plugin = FakeMetrics()
    plugin.fail = BackendUnavailable("connection refused")
    snap = await fleet_of(plugin).refresh()
    assert snap.backends[0].stale_s is None
    assert snap.functions[0].signals.success_rate is None
    assert snap.functions[0].signals.rate_rps is None


async def test_retryable_errors_are_retried_and_bad_responses_are_not() -> None:
    plugin = FakeMetrics()
    plugin.fail = BackendUnavailable("503")
    await fleet_of(plugin).refresh()
    assert plugin.signal_calls == 2
    plugin2 = FakeMetrics()
    plugin2.fail = BadResponse("bad query")
    await fleet_of(plugin2).refresh()
    assert plugin2.signal_calls == 1


async def test_hanging_backend_times_out_and_others_keep_working() -> None:
    hung, alerts = FakeMetrics(), FakeAlerts()
    hung.hang = asyncio.Event()
    fleet = fleet_of(hung, alerts, timeout=0.05)
    snap = await asyncio.wait_for(fleet.refresh(), 5)
    by_name = {b.name: b for b in snap.backends}
    assert not by_name["fake"].ok and "timed out" in (by_name["fake"].error or "")
    assert by_name["alerts"].ok


async def test_breaker_opens_after_repeated_failures() -> None:
    clock = Clock()
    plugin = FakeMetrics()
    plugin.fail = BackendUnavailable("down")
    backend = Backend(name="fake", plugin_name="fake", plugin=plugin, breaker_threshold=2)
    fleet = Fleet([backend], clock=clock, attempts=1)
    await fleet.refresh()
    await fleet.refresh()
    calls = plugin.signal_calls
    snap = await fleet.refresh()
    assert plugin.signal_calls == calls  # left alone while open
    assert "circuit open" in (snap.backends[0].error or "")
    clock.t += 31
    plugin.fail = None
    snap = await fleet.refresh()
    assert snap.backends[0].ok


async def test_alerts_attach_to_the_matching_function() -> None:
    snap = await fleet_of(FakeMetrics(), FakeAlerts()).refresh()
    with_alerts = [h.id for h in snap.functions if h.alerts]
    assert with_alerts == ["svc:op1"]


async def test_concurrent_refreshes_share_one_call() -> None:
    plugin = FakeMetrics()
    fleet = fleet_of(plugin)
    a, b = await asyncio.gather(fleet.refresh(), fleet.refresh())
    assert plugin.signal_calls == 1
    assert a is b


def test_catalog_ownership_merges_onto_discovered_functions() -> None:
    discovered = [Function(id="checkout:POST /pay", service="checkout", operation="POST /pay")]
    catalog = [
        Function(id="checkout", service="checkout", owner="payments", tier=1),
        Function(id="ledger", service="ledger", owner="finance"),
    ]
    merged = {f.id: f for f in merge_functions([discovered, catalog])}
    assert merged["checkout:POST /pay"].owner == "payments"
    assert merged["checkout:POST /pay"].tier == 1
    assert "checkout" not in merged  # the service entry lends, it is not listed twice
    assert merged["ledger"].owner == "finance"  # nothing else reports ledger: listed itself


def test_signals_merge_fills_missing_fields_only() -> None:
    a = {"f": Signals(rate_rps=5.0, p99_ms=None, throttle_rate=0.0)}
    b = {"f": Signals(rate_rps=7.0, p99_ms=120.0, throttle_rate=0.5)}
    m = merge_signals([a, b])["f"]
    assert (m.rate_rps, m.p99_ms, m.throttle_rate) == (5.0, 120.0, 0.0)


def test_a_service_wide_deploy_shows_on_each_function_of_the_service() -> None:
    from console.core.model import Deploy
    from console.engine.fleet.refresh import deploys_by_function

    fns = [
        Function(id="checkout:POST /pay", service="checkout", operation="POST /pay"),
        Function(id="checkout:GET /cart", service="checkout", operation="GET /cart"),
        Function(id="search:query", service="search", operation="query"),
    ]
    deploys = [
        Deploy(function_id="checkout", version="v2.14.0", at="2026-11-26T20:00:00Z"),
        Deploy(function_id="search:query", version="r118", at="2026-11-26T19:00:00Z"),
        Deploy(function_id="checkout:POST /pay", version="flag", at="2026-11-26T21:00:00Z"),
    ]
    got = deploys_by_function(deploys, fns)
    assert [d.version for d in got["checkout:POST /pay"]] == ["flag", "v2.14.0"]
    assert [d.version for d in got["checkout:GET /cart"]] == ["v2.14.0"]
    assert [d.version for d in got["search:query"]] == ["r118"]


class FakeTraceOnly:
    """A trace-only backend (like jaeger): no refresh calls it, only check() tells."""

    name = "jaeger"

    def __init__(self) -> None:
        self.error: str | None = "cannot connect to http://127.0.0.1:9: connection refused"
        self.checks = 0
        self.raise_: Exception | None = None

    async def check(self) -> BackendStatus:
        self.checks += 1
        if self.raise_ is not None:
            raise self.raise_
        if self.error:
            return BackendStatus(self.name, "jaeger", ok=False, error=self.error)
        return BackendStatus(self.name, "jaeger", ok=True, latency_ms=3.5)

    async def aclose(self) -> None:
        pass

    async def find_traces(self, query: Any) -> list[Any]:
        return []

    async def trace(self, trace_id: str) -> None:
        return None


async def test_unreachable_trace_only_backend_is_reported_failing_not_ok() -> None:
    snap = await fleet_of(FakeMetrics(), FakeTraceOnly()).refresh()
    by_name = {b.name: b for b in snap.backends}
    assert not by_name["jaeger"].ok
    assert "connection refused" in (by_name["jaeger"].error or "")
    assert by_name["jaeger"].stale_s is None  # never reached: no age, not 0
    assert by_name["fake"].ok


async def test_trace_only_backend_is_probed_at_most_once_a_minute_and_ages() -> None:
    clock = Clock()
    tr = FakeTraceOnly()
    tr.error = None
    fleet = fleet_of(FakeMetrics(), tr, clock=clock)
    snap = await fleet.refresh()
    (jaeger,) = [b for b in snap.backends if b.name == "jaeger"]
    assert jaeger.ok and jaeger.stale_s == 0 and jaeger.latency_ms == 3.5
    clock.t += 30
    tr.error = "down"
    snap = await fleet.refresh()
    (jaeger,) = [b for b in snap.backends if b.name == "jaeger"]
    assert tr.checks == 1  # not probed again within the minute
    assert jaeger.ok and jaeger.stale_s == 30  # its last good check is 30 s old
    clock.t += 31
    snap = await fleet.refresh()
    (jaeger,) = [b for b in snap.backends if b.name == "jaeger"]
    assert tr.checks == 2
    assert not jaeger.ok and jaeger.error == "down" and jaeger.stale_s == 61


async def test_a_check_that_raises_is_a_failure_not_a_crash() -> None:
    tr = FakeTraceOnly()
    tr.raise_ = RuntimeError("boom")
    snap = await fleet_of(tr).refresh()
    assert not snap.backends[0].ok
    assert "RuntimeError: boom" in (snap.backends[0].error or "")


async def test_a_local_span_store_is_ok_without_a_probe() -> None:
    tr = FakeTraceOnly()
    tr.local = True  # type: ignore[attr-defined]
    snap = await fleet_of(tr).refresh()
    assert snap.backends[0].ok and tr.checks == 0


class FakeActions:
    name = "acts"
    actions: ClassVar[frozenset[str]] = frozenset({"restart"})

    async def check(self) -> BackendStatus:
        return BackendStatus(self.name, "fake", ok=True)

    async def aclose(self) -> None:
        pass

    async def plan(self, request: Any) -> Any:
        raise KeyError("replicas")

    async def execute(self, plan: Any) -> Any:
        raise ValueError("bad")


async def test_untyped_plugin_errors_from_plan_and_execute_become_action_errors() -> None:
    from console.core.model import ActionPlan, ActionRequest
    from console.errors import ActionError

    fleet = fleet_of(FakeActions())
    req = ActionRequest(action="restart", function_id="svc:op1")
    with pytest.raises(ActionError, match=r"^acts: KeyError: 'replicas'$"):
        await fleet.plan(req)
    with pytest.raises(ActionError, match=r"^acts: ValueError: bad$"):
        await fleet.execute(ActionPlan(request=req, backend="acts", summary="restart"))


class Closable:
    """A plugin that records whether it was closed."""

    closed: ClassVar[list[str]] = []

    def __init__(self, name: str, options: Any, ctx: Any) -> None:
        self.name = name

    async def check(self) -> BackendStatus:
        return BackendStatus(self.name, "closable", ok=True)

    async def aclose(self) -> None:
        Closable.closed.append(self.name)


def test_a_rejected_config_closes_what_was_already_built(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    from console.config import BackendConfig, Config
    from console.engine.fleet import build, registry
    from console.errors import ConfigErrors

    real_load = registry.load
    monkeypatch.setattr(
        registry, "load", lambda name: Closable if name == "closable" else real_load(name)
    )
    clients: list[httpx.AsyncClient] = []

    def client(transport: Any = None) -> httpx.AsyncClient:
        clients.append(httpx.AsyncClient())
        return clients[-1]

    monkeypatch.setattr(build, "make_http_client", client)
    Closable.closed = []
    config = Config(
        backends=(
            BackendConfig(name="ok1", plugin="closable", options={}, line=2),
            BackendConfig(name="bad", plugin="prometheus", options={"url": 5}, line=3),
        )
    )
    with pytest.raises(ConfigErrors):
        build.build_fleet(config)
    assert Closable.closed == ["ok1"]
    assert clients and clients[0].is_closed


async def test_an_otlp_backend_configured_on_its_own_closes_its_store(tmp_path: Any) -> None:
    from callboard_otlp import OtlpPlugin

    from console.core.model import TraceQuery
    from console.plugin_api import PluginContext

    plugin = OtlpPlugin(
        "spans", {"db": str(tmp_path / "cb.db")}, PluginContext(None, str, lambda: 0.0)
    )
    assert await plugin.find_traces(TraceQuery(service="checkout")) == []
    store = plugin._own_store
    assert store is not None and store.is_open  # the file is open
    await plugin.aclose()
    assert not store.is_open  # released


async def test_a_plugin_without_check_does_not_break_the_refresh() -> None:
    class NoCheck:
        name = "bare"

        async def find_traces(self, query: Any) -> list[Any]:
            return []

        async def trace(self, trace_id: str) -> None:
            return None

    snap = await fleet_of(FakeMetrics(), NoCheck()).refresh()
    by_name = {b.name: b for b in snap.backends}
    assert by_name["fake"].ok and len(snap.functions) == 3
    assert not by_name["bare"].ok and "check()" in (by_name["bare"].error or "")
