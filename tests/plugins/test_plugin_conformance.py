"""Every built-in plugin against the contract of ``console.plugin_api``.

Modelled on harlequin's adapter tests (each adapter built, connected, refused and fed bad
input the same way), but run over every plugin the ``callboard.plugins`` entry-point group
registers, so a new built-in is held to the contract without writing a line:

- it loads through the registry and declares its options (name, type, help);
- each capability it claims has the protocol's methods, async, with the protocol's
  parameters;
- its options are checked: an unknown key and a missing required one are a typed
  ``OptionError`` naming the key;
- a hostile answer (not JSON, nested too deep, the wrong shape, invalid UTF-8, a 500) from
  its backend is a ``BackendError`` or ``ActionError``, never another exception;
- a backend that never answers costs one timeout: the engine's budget is honoured.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.core.logmodel import LogQuery
from console.core.model import ActionRequest, Function, TraceQuery
from console.core.options import TYPES
from console.engine.fleet import registry, resilience
from console.engine.otlp.spanstore import SpanStore
from console.engine.store.sqlite import Store
from console.errors import ActionError, BackendError
from console.plugin_api import (
    Actions,
    Alerts,
    Annotations,
    Baselines,
    Changes,
    Discovers,
    Health,
    Inventory,
    Logs,
    Metrics,
    OptionError,
    Plugin,
    PluginContext,
    Probed,
    Query,
    Traces,
    options_of,
)

CAPABILITIES: tuple[type, ...] = (
    Inventory, Metrics, Traces, Alerts, Changes, Actions, Annotations, Query, Baselines, Health,
    Probed, Discovers, Logs,
)  # fmt: skip
BUILT_IN = sorted(registry.available())
NOW = time.time()
FN = Function(id="checkout:POST /pay", service="checkout", operation="POST /pay")
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
#: What every built-in is expected to claim (a plugin that loses one fails here first).
CLAIMS: dict[str, set[type]] = {
    "alertmanager": {Alerts, Actions},
    "catalog": {Inventory},
    "demo": {Inventory, Metrics, Traces, Alerts, Changes, Actions},
    "grafana": {Actions, Annotations},
    "http": {Actions},
    "jaeger": {Traces},
    "kubernetes": {Actions},
    "loki": {Logs},
    "otlp": {Traces, Logs},
    "prometheus": {Inventory, Metrics, Query, Probed, Discovers},
    "replay": {Inventory, Metrics, Baselines, Alerts, Changes, Actions},
    "tempo": {Traces},
    "zipkin": {Traces},
}
#: Hostile answers a backend may send; each must end as a typed error (or a clean result).
HOSTILE: dict[str, tuple[int, bytes]] = {
    "html": (200, b"<html><body>502 Bad Gateway</body></html>"),
    "deep": (200, b'{"status":"success","data":' + b"[" * 100_000),
    "shape": (200, b'[1, "two", null, {"data": {"result": "x"}}]'),
    "types": (200, b'{"status":"success","data":{"resultType":"vector","result":[{"metric":'
                   b'"x","value":"y"}]},"traces":[{"traceID":5,"spans":"x"}],"data2":7}'),
    "utf8": (200, b"\xff\xfe\x00{\x80garbage"),
    "error": (500, b"boom"),
}  # fmt: skip


def minimal_options(plugin: str, tmp: Path) -> dict[str, Any]:
    """The least config each built-in needs to be built (its required keys)."""
    if plugin == "catalog":
        (tmp / "functions.yaml").write_text("- {service: checkout, operation: POST /pay}\n")
        return {"path": str(tmp / "functions.yaml")}
    if plugin == "replay":  # a recorded incident: one moment of one function's signals
        from console.engine.incidents.lifecycle import open_incident

        store = Store(tmp / "replay.db")
        try:
            if not store.query("SELECT 1 FROM incidents"):
                signals = {FN.id: {"rate_rps": 40.0, "timeout_rate": 0.09, "p99_ms": 5000.0}}
                open_incident(store, "Pay timeouts", [FN.id], signals=signals)
        finally:
            store.close()
        return {"incident": "INC-0001", "db": str(tmp / "replay.db")}
    if plugin == "kubernetes":
        kubectl = tmp / "kubectl"
        kubectl.write_text(f"#!{sys.executable}\nprint('{{not json')\n")
        kubectl.chmod(0o755)
        return {"context": "test", "kubectl": str(kubectl)}
    table: dict[str, dict[str, Any]] = {
        "grafana": {"url": "http://grafana.test", "token": "t"},
        "http": {"endpoints": {"throttle": {"method": "POST", "url": "http://mesh.test/t"}}},
        "demo": {},
        "otlp": {},
    }
    return table.get(plugin, {"url": f"http://{plugin}.test"})


def context(handler: Callable[[httpx.Request], Any]) -> PluginContext:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    spans = SpanStore(Store(":memory:"), clock=lambda: NOW)
    return PluginContext(http=http, secret=lambda n: n, clock=lambda: NOW, span_store=spans)


def build(plugin: str, tmp: Path, handler: Callable[[httpx.Request], Any]) -> Any:
    return registry.load(plugin)(plugin, minimal_options(plugin, tmp), context(handler))


def calls(p: Any) -> Iterator[tuple[str, Callable[[], Awaitable[Any]]]]:
    """One call of every read capability the plugin has (the ones a backend answers)."""
    if isinstance(p, Inventory):
        yield "functions", p.functions
    if isinstance(p, Metrics):
        yield "signals", lambda: p.signals([FN], "5m")
        yield "series", lambda: p.series(FN, "p99_ms", NOW - 600, NOW, 60)
    if isinstance(p, Traces):
        yield "find_traces", lambda: p.find_traces(TraceQuery(service="checkout"))
        yield "trace", lambda: p.trace(TRACE_ID)
    if isinstance(p, Logs):
        yield "logs", lambda: p.logs(LogQuery(service="checkout", trace_id=TRACE_ID))
    if isinstance(p, Alerts):
        yield "alerts", p.alerts
    if isinstance(p, Changes):
        yield "deploys", lambda: p.deploys(None, NOW - 3600)
    if isinstance(p, Query):
        yield "query_scalar", lambda: p.query_scalar("up")
    if isinstance(p, Annotations):
        yield "annotate", lambda: p.annotate("x", incident_id="I", function_id="", tags=())
    if isinstance(p, Actions) and "rollback" in p.actions:
        yield "plan", lambda: p.plan(ActionRequest("rollback", FN.id, {}))


def test_every_built_in_is_checked_here() -> None:
    assert set(BUILT_IN) == set(CLAIMS)


@pytest.mark.parametrize("plugin", BUILT_IN)
def test_it_declares_its_options(plugin: str) -> None:
    declared = options_of(registry.load(plugin))
    assert declared is not None, f"{plugin} declares no OPTIONS"
    names = [o.name for o in declared]
    assert len(names) == len(set(names)), f"{plugin} declares an option twice"
    for option in declared:
        assert option.type in TYPES and option.help.strip(), option
        assert not option.choices or option.default in (None, *option.choices), option


@pytest.mark.parametrize("plugin", BUILT_IN)
async def test_it_has_its_capabilities_with_the_declared_signatures(
    plugin: str, tmp_path: Path
) -> None:
    p = build(plugin, tmp_path, lambda r: httpx.Response(200, json={}))
    try:
        claimed = {c for c in CAPABILITIES if isinstance(p, c)}
        assert isinstance(p, Plugin) and isinstance(p, Health)
        assert CLAIMS[plugin] <= claimed, f"{plugin} lost {CLAIMS[plugin] - claimed}"
        for cap in claimed:
            for name, want in vars(cap).items():
                if name.startswith("_") or not inspect.isfunction(want):
                    continue
                got = getattr(type(p), name)
                assert inspect.iscoroutinefunction(got), f"{plugin}.{name} is not async"
                params = list(inspect.signature(got).parameters)
                assert params == list(inspect.signature(want).parameters), (plugin, name)
        if isinstance(p, Actions):
            assert isinstance(p.actions, frozenset) and all(isinstance(a, str) for a in p.actions)
    finally:
        await p.aclose()


@pytest.mark.parametrize("plugin", BUILT_IN)
def test_an_unknown_option_is_a_typed_error_naming_it(plugin: str, tmp_path: Path) -> None:
    cls = registry.load(plugin)
    options = {**minimal_options(plugin, tmp_path), "colour": "red"}
    with pytest.raises(OptionError, match="unknown option 'colour'"):
        cls(plugin, options, context(lambda r: httpx.Response(200)))


@pytest.mark.parametrize("plugin", BUILT_IN)
def test_a_missing_required_option_is_a_typed_error_naming_it(plugin: str, tmp_path: Path) -> None:
    cls = registry.load(plugin)
    declared = options_of(cls) or ()
    for option in (o for o in declared if o.required):
        options = {k: v for k, v in minimal_options(plugin, tmp_path).items() if k != option.name}
        with pytest.raises(OptionError, match=f"{option.name}: required"):
            cls(plugin, options, context(lambda r: httpx.Response(200)))


@pytest.mark.parametrize("payload", list(HOSTILE))
@pytest.mark.parametrize("plugin", BUILT_IN)
async def test_a_hostile_answer_is_a_typed_error(plugin: str, payload: str, tmp_path: Path) -> None:
    status, body = HOSTILE[payload]
    p = build(plugin, tmp_path, lambda r: httpx.Response(status, content=body))
    try:
        status_ = await p.check()  # never raises: a failure is in the status
        assert status_.ok in (True, False)
        for name, call in calls(p):
            try:
                await call()
            except (BackendError, ActionError):
                pass  # typed, with a message: what the engine shows
            except Exception as exc:  # anything else is a traceback in the console
                pytest.fail(f"{plugin}.{name} on a {payload!r} answer: {type(exc).__name__}: {exc}")
    finally:
        await p.aclose()


@pytest.mark.parametrize("plugin", BUILT_IN)
async def test_a_backend_that_never_answers_costs_one_timeout(plugin: str, tmp_path: Path) -> None:
    never = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        await never.wait()
        raise AssertionError("unreachable")

    p = build(plugin, tmp_path, hang)
    try:
        for name, call in [("check", p.check), *calls(p)]:
            started = time.perf_counter()
            try:
                await resilience.call(call, timeout=0.2, attempts=2)
            except resilience.CallTimeout:
                pass
            except (BackendError, ActionError):
                pass  # answered without the backend (a plan refused up front)
            took = time.perf_counter() - started
            assert took < 5.0, f"{plugin}.{name} ignored its timeout ({took:.1f}s)"
    finally:
        await p.aclose()


def test_every_declared_option_is_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    backends = readme[readme.index("## Backends (plugins)") : readme.index("## Development")]
    missing = [
        f"{plugin}.{o.name}"
        for plugin in BUILT_IN
        for o in options_of(registry.load(plugin)) or ()
        if f"`{o.name}`" not in backends
    ]
    assert missing == []
