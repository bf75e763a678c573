"""``DemoPlugin``: the simulated fleet Callboard opens on when nothing is configured.

It implements every capability (Inventory, Metrics, Baselines, Traces, Alerts, Changes,
Actions) over the simulation in this package. Options:

- ``seed`` (int, default 7): the fleet and its numbers are a function of the seed.
- ``size`` (int, default 48): number of functions; ``context.options["demo_size"]`` wins.
- ``scenario`` ("default"): which failures are active.
- ``failures`` (e.g. ``"F3,F9"``) and ``inject_at`` (Unix seconds): a drill's scenario —
  only those modes' failures, beginning at that moment (see ``drill.py``).

Executed actions persist in ``context.state`` (``"applied"``, ``"epoch"``) until ``reset``.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Generator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from callboard_demo.catalog import ACTIONS
from callboard_demo.controls import EPOCH_KEY, Applied, History, load_applied, save_applied
from callboard_demo.drill import DrillScenario, parse_modes
from callboard_demo.fleet import Fleet, build_fleet
from callboard_demo.scenario import SCENARIO_FUNCTIONS
from callboard_demo.sim import Simulator, noise_key
from console.plugin_api import (
    ActionPlan,
    ActionRequest,
    ActionResult,
    Alert,
    BackendStatus,
    BadResponse,
    Deploy,
    FailureMode,
    Function,
    Option,
    PluginContext,
    Signals,
    Trace,
    TraceQuery,
    TraceSummary,
    check_options,
    gc_paused,
)

if TYPE_CHECKING:
    from callboard_demo.traces import TraceMaker

_T = TypeVar("_T")

SCENARIOS = ("default",)
MAX_SIZE = 1_000_000
#: Prometheus refuses range queries over this many points; so do we.
MAX_POINTS = 11_000
#: Series names -> the simulation's value keys (``error_rate`` adds every error class).
SERIES: dict[str, tuple[str, ...]] = {
    "error_rate": ("err5xx", "timeout", "throttle", "auth", "serial"),
    "rate_rps": ("rate",), "p50_ms": ("p50",), "p95_ms": ("p95",), "p99_ms": ("p99",),
    "error_5xx_rate": ("err5xx",), "timeout_rate": ("timeout",), "throttle_rate": ("throttle",),
    "auth_error_rate": ("auth",), "serialization_error_rate": ("serial",),
    "retry_rate": ("retry",), "cold_start_rate": ("cold",), "cpu": ("cpu",),
    "memory": ("memory",), "queue_length": ("queue",), "cost_per_1k": ("cost",),
    "failing_instances": ("failing",),
}  # fmt: skip


def rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _whole(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"demo: {name} must be a whole number from {low} to {high}, got {value!r}")
    return value


def _drill(options: Mapping[str, Any]) -> DrillScenario | None:
    """The drill scenario the options ask for (None: the default scenario)."""
    text, at = options.get("failures") or "", options.get("inject_at")
    if not text and at is None:
        return None
    if not isinstance(text, str):
        raise ValueError(f"demo: failures must be modes like F3,F9, got {text!r}")
    if at is not None and (isinstance(at, bool) or not isinstance(at, int | float)):
        raise ValueError(f"demo: inject_at must be Unix seconds, got {at!r}")
    modes = parse_modes(text) if text else frozenset(FailureMode)
    return DrillScenario(modes, None if at is None else float(at))


class Completed:
    """The result of ``reset``: already done, and awaitable for callers that ``await`` it."""

    def __await__(self) -> Generator[None, None, None]:
        yield from ()


#: Above this many functions, signals are simulated in a thread (and with the collector
#: paused: see ``gcpause``).
BIG_FLEET = 2000


def _paused(work: Callable[..., _T], *args: Any) -> _T:
    """``work(*args)`` with the cyclic collector paused (a big fleet's batch)."""
    with gc_paused():
        return work(*args)


class DemoPlugin:
    """A deterministic simulated fleet with ten failures active at once, and their cures."""

    actions: ClassVar[frozenset[str]] = ACTIONS
    OPTIONS: ClassVar[tuple[Option, ...]] = (
        Option("seed", "int", "the random seed: the same seed, the same fleet", default=7),
        Option("size", "int", f"the number of functions, 1 to {MAX_SIZE}", default=48),
        Option("scenario", "str", "the story told", default="default", choices=SCENARIOS),
        Option("failures", "str", "a drill: only these failure modes, e.g. F3,F9", default=""),
        Option("inject_at", "float", "a drill: when its failures begin (Unix seconds)"),
    )

    def __init__(self, name: str, options: Mapping[str, Any], context: PluginContext) -> None:
        """Raises: ValueError for an unknown option or a bad value (nothing is built yet)."""
        check_options("demo", self.OPTIONS, options)
        self.name = name
        self.context = context
        self.seed = _whole("seed", options.get("seed", 7), -(2**63), 2**63 - 1)
        size = context.options.get("demo_size") or options.get("size")
        self.size = None if size is None else _whole("size", size, 1, MAX_SIZE)
        self.scenario = options.get("scenario") or "default"
        self.drill = _drill(options)
        self._fleet: Fleet | None = None
        self._building = threading.Lock()
        self._sim: Simulator | None = None
        self._traces: TraceMaker | None = None
        self._epoch: float | None = None
        #: (stored epoch, applied actions, their replay) as last read from the state.
        self._state: tuple[Any, list[Applied], History] | None = None
        self.tick = 0

    # -- the model, built on first use ----------------------------------------------------

    @property
    def fleet(self) -> Fleet:
        if self._fleet is None:
            with self._building:  # built once, on the loop or in the thread below
                if self._fleet is None:
                    with gc_paused((self.size or 0) > BIG_FLEET):
                        self._fleet = build_fleet(self.seed, self.size, SCENARIO_FUNCTIONS)
        return self._fleet

    async def _built(self) -> Fleet:
        """The fleet; a big one (0.3 s for 10,000 functions) is generated off the UI loop."""
        if self._fleet is None and (self.size or 0) > BIG_FLEET:
            return await asyncio.to_thread(lambda: self.fleet)
        return self.fleet

    @property
    def sim(self) -> Simulator:
        if self._sim is None:
            self._sim = Simulator(self.fleet, self.drill)
        return self._sim

    def _now(self, fresh: bool = False) -> tuple[float, float, History]:
        """(epoch, now, history). The epoch is stored once an action runs, so later
        processes replay the same timeline; until then each instance starts its own.

        The stored state (a SQLite read, JSON, a replay) is read once per refresh:
        ``signals`` (called first in each refresh) and ``execute`` pass ``fresh``; the
        other capabilities reuse what it read. An action applied by another process is
        therefore seen on the next refresh.
        """
        now = float(self.context.clock())
        if fresh or self._state is None:
            stored = self.context.state.get(EPOCH_KEY)
            applied = load_applied(self.context.state)
            self._state = (stored, applied, History.replay(applied))
        stored, _, history = self._state
        if isinstance(stored, int | float) and not isinstance(stored, bool):
            epoch = float(stored)
        else:
            if self._epoch is None:
                self._epoch = now
            epoch = self._epoch
        return epoch, now, history

    def _applied(self) -> list[Applied]:
        """The applied actions as last read by :meth:`_now`."""
        if self._state is None:
            self._now()
        assert self._state is not None
        return self._state[1]

    # -- every plugin ---------------------------------------------------------------------

    async def check(self) -> BackendStatus:
        """Always ok once the fleet builds; the latency is that of building or reading it."""
        started = time.perf_counter()
        ok = bool((await self._built()).functions)
        latency = round((time.perf_counter() - started) * 1000.0, 3)
        return BackendStatus(self.name, "demo", ok, None if ok else "empty fleet", latency, 0.0)

    async def aclose(self) -> None:
        """Nothing to release: the demo holds no connections."""

    def reset(self) -> Completed:
        """Forget every applied action (``callboard demo reset``). Works with or without await."""
        self.context.state.delete("applied")
        self.context.state.delete(EPOCH_KEY)
        self._epoch = None
        self._state = None
        return Completed()

    # -- Inventory, Metrics, Baselines --------------------------------------------------------

    async def functions(self) -> list[Function]:
        """The whole fleet (built on the first call, then reused)."""
        return list((await self._built()).functions)

    async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
        """Every call advances the tick by one: tick 0 is what a one-shot command sees.
        It re-reads the stored state: once per refresh."""
        epoch, now, history = self._now(fresh=True)
        ids = [f.id for f in functions]
        tick = self.tick
        self.tick += 1
        if len(ids) > BIG_FLEET:  # simulated work of a big fleet must not stall the UI loop
            return await asyncio.to_thread(
                _paused, self.sim.signals, ids, window, history, epoch, now, tick
            )
        return self.sim.signals(ids, window, history, epoch, now, tick)

    async def baselines(self, functions: list[Function]) -> dict[str, Signals]:
        """Each function's healthy behaviour, what diagnosis compares against."""
        if len(functions) > BIG_FLEET:  # 0.2 s for 10,000: off the UI loop
            return await asyncio.to_thread(_paused, self.sim.baselines, [f.id for f in functions])
        return self.sim.baselines(f.id for f in functions)

    async def series(
        self, function: Function, signal: str, start: float, end: float, step: float
    ) -> list[tuple[float, float]]:
        """Points from ``start`` to ``min(end, now)``; the failure begins at its cause time."""
        keys = SERIES.get(signal)
        if keys is None:  # a signal the demo keeps no history of (availability): no data
            return []
        if not (math.isfinite(step) and step > 0 and math.isfinite(start) and math.isfinite(end)):
            raise BadResponse("demo: series needs finite start/end and a step > 0")
        p = self.fleet.profiles.get(function.id)
        epoch, now, history = self._now()
        end = min(end, now)
        if p is None or end < start:
            return []
        count = int((end - start) // step) + 1
        if count > MAX_POINTS:
            raise BadResponse(
                f"demo: {count} points requested; at most {MAX_POINTS} (use a larger step)"
            )
        episodes = self.sim.episodes(history, epoch, now)
        points: list[tuple[float, float]] = []
        for i in range(count):
            t = start + i * step
            key = noise_key(self.seed, p.index, int(t))
            v = self.sim.values(function.id, key, t, step, history.at(t), episodes)
            parts = [v[k] for k in keys if v[k] is not None]
            if parts:
                points.append((t, float(sum(parts))))
        return points

    # -- Traces -------------------------------------------------------------------------

    @property
    def tracer(self) -> TraceMaker:
        if self._traces is None:
            # Imported on first use: traces are on demand, and the first paint of the
            # fleet does not need their modules (~30 ms of imports).
            from callboard_demo.traces import TraceMaker

            self._traces = TraceMaker(self.fleet)
        return self._traces

    async def find_traces(self, query: TraceQuery) -> list[TraceSummary]:
        """Traces of the query's service in its time range (default: the last 15 minutes)."""
        epoch, now, history = self._now()
        return self.tracer.find(query, self.sim.episodes(history, epoch, now), now)

    async def trace(self, trace_id: str) -> Trace | None:
        """The trace behind an id ``find_traces`` gave out (None for any other id)."""
        return self.tracer.build(trace_id)

    # -- Alerts, Changes --------------------------------------------------------------------

    async def alerts(self) -> list[Alert]:
        """Firing alerts for the active failures (``suppressed`` while silenced)."""
        epoch, now, history = self._now()
        out = []
        for ep in self.sim.episodes(history, epoch, now).values():
            if not ep.active:
                continue
            f, fn = ep.failure, self.fleet.by_id[ep.failure.function_id]
            silenced = history.now.silenced(fn.id, f.alert, now)
            labels = {"alertname": f.alert, "service": fn.service, "function": fn.operation,
                      "severity": f.severity, "team": fn.owner or ""}  # fmt: skip
            out.append(Alert(
                name=f.alert, severity=f.severity, state="suppressed" if silenced else "firing",
                since=rfc3339(ep.intervals[-1][0]), summary=f.summary, labels=labels,
                function_id=fn.id, source=self.name,
            ))  # fmt: skip
        return out

    async def deploys(self, function: Function | None, since: float) -> list[Deploy]:
        """Changes since ``since``, newest first; rollbacks run here are changes too."""
        epoch, now, _ = self._now()
        fleet = self.fleet
        if function is not None and function.service not in fleet.services:
            return []
        services = [function.service] if function is not None else list(fleet.services)
        found: list[tuple[float, Deploy]] = []
        for service in services:
            for c in fleet.changes(service):
                at = epoch - c.age_s
                if self.drill is not None:
                    at = self.drill.change_at(c, epoch)
                    if at > now:
                        continue  # a drill's cause, not deployed yet
                if at >= since and (function is None or c.target in (service, function.id)):
                    d = Deploy(
                        c.target, c.version, rfc3339(at), c.author, c.description, c.previous
                    )
                    found.append((at, d))
        for a in self._applied():
            if a.action == "rollback" and a.at >= since and a.params.get("service") in services:
                p = a.params
                d = Deploy(str(p["service"]), str(p["to_version"]), rfc3339(a.at), "callboard",
                           f"rollback of {p['from_version']}" + (f": {a.reason}" if a.reason else ""),
                           str(p["from_version"]))  # fmt: skip
                found.append((a.at, d))
        found.sort(key=lambda x: -x[0])
        return [d for _, d in found]

    # -- Actions ------------------------------------------------------------------------

    async def plan(self, request: ActionRequest) -> ActionPlan:
        """Exactly what ``request`` would change. Raises ActionError when it is invalid."""
        from callboard_demo.actions import plan_action  # on first use: not on the first paint

        _, _, history = self._now()
        return plan_action(self.fleet, history.now, request, self.name)[0]

    async def execute(self, plan: ActionPlan) -> ActionResult:
        """Carry ``plan`` out (planned again against the current state) and remember it."""
        from callboard_demo.actions import plan_action

        epoch, now, history = self._now(fresh=True)
        fresh, params = plan_action(self.fleet, history.now, plan.request, self.name)
        state = self.context.state
        applied = list(self._applied())
        applied.append(Applied(fresh.request.action, fresh.request.function_id, params, now,
                               fresh.request.reason))  # fmt: skip
        state.set(EPOCH_KEY, epoch)
        save_applied(state, applied)
        self._state = None  # what was just written is read back on next use
        done = str(fresh.details.get("done", fresh.summary))
        return ActionResult(fresh, True, done, {"applied": len(applied), "params": params})
