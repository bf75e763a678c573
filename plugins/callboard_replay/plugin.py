"""``ReplayPlugin``: a recorded incident's fleet state, served on a replay clock.

The incident's timeline (:mod:`console.engine.replay.timeline`) is read once, on first use,
from the store at option ``db`` (default: ``$CALLBOARD_DB``, else Callboard's default
database). The replay clock starts at the incident's first recorded moment when the plugin
is first asked, and advances ``speed`` recorded seconds per second of the fleet's clock.
Every recorded time (a deploy, an alert's start) is moved onto the fleet's clock the same
way, so "deployed 20 minutes ago" reads as it did during the incident.

Capabilities: the incident's functions (Inventory), their Signals as recorded at the
replayed moment (Metrics) and the baselines their findings were compared with (Baselines),
the alerts firing then (Alerts), the deploys seen by then (Changes), and Actions that plan
but are never carried out: a replay changes nothing (``execute`` refuses).
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from console.core.model import SLO
from console.plugin_api import (
    ActionError,
    ActionPlan,
    ActionRequest,
    ActionResult,
    Alert,
    BackendError,
    BackendStatus,
    Deploy,
    Function,
    Option,
    PluginContext,
    Signals,
    check_options,
)

if TYPE_CHECKING:
    from console.engine.replay.timeline import Timeline

#: The actions a replay plans (those of the shipped runbooks and the built-in backends).
ACTIONS = frozenset(
    {"rollback", "throttle", "circuit_open", "circuit_close", "scale", "silence", "unsilence",
     "restart", "annotate"}
)  # fmt: skip
MAX_SPEED = 10_000.0
#: Points one ``series`` answer may hold (as the demo and Prometheus).
MAX_POINTS = 11_000
#: Series names -> the key signal recorded under that name.
SERIES = frozenset(
    {"error_rate", "success_rate", "p99_ms", "rate_rps", "error_5xx_rate", "timeout_rate",
     "throttle_rate", "auth_error_rate", "serialization_error_rate"}
)  # fmt: skip


def rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _speed(value: Any) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not 0 < value <= MAX_SPEED:
        raise ValueError(
            f"replay: speed must be a number above 0, at most {MAX_SPEED:g}, got {value!r}"
        )
    return float(value)


class ReplayPlugin:
    """A recorded incident as a fleet: its functions and signals at each replayed moment."""

    actions: ClassVar[frozenset[str]] = ACTIONS
    OPTIONS: ClassVar[tuple[Option, ...]] = (
        Option("incident", "str", "the incident to replay, e.g. INC-0042", required=True),
        Option("db", "str", "the store that recorded it (default: $CALLBOARD_DB, else the default database)"),
        Option("speed", "float", "recorded seconds replayed per second (1: as it happened)", default=1.0),
    )  # fmt: skip
    #: Read from Callboard's own store, no network: healthy without a probe.
    local = True

    def __init__(self, name: str, options: Mapping[str, Any], context: PluginContext) -> None:
        """Raises: ValueError for an unknown option or a bad value (nothing is read yet)."""
        check_options("replay", self.OPTIONS, options)
        self.name = name
        self.context = context
        incident = options.get("incident")
        if not isinstance(incident, str) or not incident.strip():
            raise ValueError(
                f"replay: incident must name an incident like INC-0042, got {incident!r}"
            )
        self.incident = incident.strip().upper()
        self.speed = _speed(options.get("speed", 1.0))
        self.db = str(options.get("db") or os.environ.get("CALLBOARD_DB") or "")
        self._timeline: Timeline | None = None
        self._loading: asyncio.Lock | None = None
        #: The fleet clock's reading when the replay started (its first moment).
        self.origin: float | None = None

    # -- the timeline and the replay clock ----------------------------------------------

    def _load(self) -> Timeline:
        from console import paths
        from console.engine.replay import load_timeline
        from console.engine.store.sqlite import Store
        from console.errors import UserError

        db = self.db or str(paths.default_db())
        if not Path(db).is_file():
            raise BackendError(f"replay: no store at {db}")
        store = Store(db)
        try:
            return load_timeline(store, self.incident)
        except UserError as exc:
            raise BackendError(f"replay: {exc}") from None
        finally:
            store.close()

    async def timeline(self) -> Timeline:
        """The incident's timeline, read once (the replay clock starts then)."""
        if self._timeline is None:
            if self._loading is None:
                self._loading = asyncio.Lock()
            async with self._loading:
                if self._timeline is None:
                    self._timeline = await asyncio.to_thread(self._load)
                    self.origin = float(self.context.clock())
        return self._timeline

    def recorded(self, t: float) -> float:
        """The recorded moment the fleet clock's ``t`` replays."""
        assert self._timeline is not None and self._timeline.start is not None
        assert self.origin is not None
        return self._timeline.start + (t - self.origin) * self.speed

    def shown(self, t: float) -> float:
        """A recorded time moved onto the fleet's clock."""
        assert self._timeline is not None and self._timeline.start is not None
        assert self.origin is not None
        return self.origin + (t - self._timeline.start) / self.speed

    async def now(self) -> float:
        """The recorded moment being replayed now."""
        await self.timeline()
        return self.recorded(float(self.context.clock()))

    # -- every plugin ---------------------------------------------------------------------

    async def check(self) -> BackendStatus:
        """Ok once the incident is read; which moment is replayed, as a warning line."""
        try:
            tl = await self.timeline()
        except BackendError as exc:
            return BackendStatus(self.name, "replay", ok=False, error=str(exc))
        at = await self.now()
        assert tl.start is not None and tl.end is not None
        length = f"{tl.end - tl.start:,.0f}s"
        where = "at its end" if at >= tl.end else f"{at - tl.start:,.0f}s of {length}"
        note = f"replaying {tl.incident_id} ({tl.title}): {where}"
        return BackendStatus(self.name, "replay", ok=True, latency_ms=0.0, warnings=(note,))

    async def aclose(self) -> None:
        """Nothing held: the store is closed once the timeline is read."""

    # -- Inventory, Metrics, Baselines ------------------------------------------------------

    def _function(self, tl: Timeline, fid: str) -> Function:
        service, _, operation = fid.partition(":")
        return Function(
            id=fid, service=service or fid, operation=operation,
            slo=tl.slos.get(fid, SLO()), source=self.name,
        )  # fmt: skip

    async def functions(self) -> list[Function]:
        """The incident's functions (and any other the recording sampled)."""
        tl = await self.timeline()
        return [self._function(tl, fid) for fid in tl.functions]

    async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
        """Each function's Signals as recorded at the replayed moment (none before its first)."""
        tl = await self.timeline()
        at = await self.now()
        out = {}
        for fn in functions:
            s = tl.signals_at(fn.id, at)
            if s is not None:
                out[fn.id] = s
        return out

    async def baselines(self, functions: list[Function]) -> dict[str, Signals]:
        """The baselines the incident's findings were compared with."""
        tl = await self.timeline()
        out = {}
        for fn in functions:
            b = tl.baseline(fn.id)
            if b is not None:
                out[fn.id] = b
        return out

    async def series(
        self, function: Function, signal: str, start: float, end: float, step: float
    ) -> list[tuple[float, float]]:
        """A recorded key signal from ``start`` to ``min(end, now)`` (fleet clock)."""
        tl = await self.timeline()
        if signal not in SERIES:
            return []
        if not (math.isfinite(step) and step > 0 and math.isfinite(start) and math.isfinite(end)):
            raise BackendError("replay: series needs finite start/end and a step > 0")
        end = min(end, float(self.context.clock()))
        if end < start:
            return []
        count = int((end - start) // step) + 1
        if count > MAX_POINTS:
            raise BackendError(f"replay: {count} points requested; at most {MAX_POINTS}")
        points = []
        for i in range(count):
            t = start + i * step
            key = tl.key_signals(function.id, self.recorded(t))
            v = None if key is None else key.get(signal)
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
                points.append((t, float(v)))
        return points

    # -- Alerts, Changes --------------------------------------------------------------------

    async def alerts(self) -> list[Alert]:
        """The alerts that were firing at the replayed moment."""
        from console.engine.replay.timeline import epoch

        tl = await self.timeline()
        at = await self.now()
        out = []
        for a in tl.alerts_at(at):
            parsed = epoch(a.since)
            shown = rfc3339(self.shown(a.firing if parsed is None else parsed))
            out.append(Alert(
                name=a.name, severity=a.severity, state="firing", since=shown, summary=a.summary,
                labels=dict(a.labels), function_id=a.function_id, source=self.name,
            ))  # fmt: skip
        return out

    async def deploys(self, function: Function | None, since: float) -> list[Deploy]:
        """The deploys seen by the replayed moment, newest first (times on the fleet clock)."""
        tl = await self.timeline()
        at = await self.now()
        out = []
        for d in tl.deploys_at(at):
            when = self.shown(d.deployed)
            if when < since or (function is not None and d.function_id != function.id):
                continue
            out.append(Deploy(
                d.function_id, d.version, rfc3339(when), d.author, d.description,
                d.previous_version,
            ))  # fmt: skip
        return out

    # -- Actions: planned, never carried out ---------------------------------------------

    async def plan(self, request: ActionRequest) -> ActionPlan:
        """What the action would be asked to do; a replay carries nothing out."""
        if request.action not in ACTIONS:
            raise ActionError(
                f"replay: unknown action {request.action!r} (planned: {', '.join(sorted(ACTIONS))})"
            )
        tl = await self.timeline()
        if request.function_id not in tl.functions:
            raise ActionError(f"replay: no function {request.function_id!r} in {tl.incident_id}")
        params = ", ".join(f"{k}={v}" for k, v in sorted(dict(request.params).items()))
        what = f"{request.action} {request.function_id}" + (f" ({params})" if params else "")
        return ActionPlan(
            request, self.name, what,
            (f"not carried out: a replay of {tl.incident_id} changes nothing",),
            mutates=True, details={"replay": tl.incident_id},
        )  # fmt: skip

    async def execute(self, plan: ActionPlan) -> ActionResult:
        """Refused: a replay only plans (run the runbook with --dry-run)."""
        raise ActionError(f"replay of {self.incident}: actions are planned, never carried out")
