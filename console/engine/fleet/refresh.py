# mypy: disable-error-code="type-abstract"
# (Backend.cap takes a capability protocol: mypy#4717 flags passing one as type[C])
"""The fleet: configured backend instances, and the refresh that turns them into a snapshot.

One refresh asks each backend once per capability (never once per function), in
parallel, each call with a timeout, retries and a circuit breaker. A backend that fails
keeps its last good data, marked stale with its age; the others carry on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from console.core.alerts import attach_alerts, unmatched_alerts
from console.core.classify import DEFAULT_COUNTED, success_rate
from console.core.diagnose import Thresholds, diagnose
from console.core.gcpause import gc_paused
from console.core.model import (
    Alert,
    BackendStatus,
    BurnRates,
    Deploy,
    FailureMode,
    Finding,
    Function,
    Signals,
)
from console.core.sanitize import clean_line, clean_obj, clean_result
from console.core.slo import evaluate
from console.core.snapshot import FleetSnapshot, FunctionHealth
from console.engine.fleet import resilience
from console.engine.fleet.backend import Backend, deploys_by_function
from console.engine.fleet.inventory import merge_functions, merge_signals
from console.engine.fleet.logs import LogsOnDemand
from console.engine.fleet.ondemand import Judge, OnDemand
from console.errors import BackendError
from console.plugin_api import (
    Alerts,
    Baselines,
    Changes,
    Health,
    Inventory,
    Metrics,
    is_local,
    warnings_of,
)

log = logging.getLogger("callboard.fleet")

TREND_POINTS = 30
#: Above this many functions the per-function work runs in a thread.
BIG_FLEET = 2000
BASELINE_TTL_S = 600.0
DEPLOY_LOOKBACK_S = 24 * 3600.0
#: A backend no refresh calls (traces or actions only) is probed this often.
CHECK_TTL_S = 60.0
#: The capabilities a refresh calls; a backend with none of them is probed with check().
REFRESHED = (Inventory, Metrics, Baselines, Alerts, Changes)


class Fleet(OnDemand, LogsOnDemand):
    """The configured backends and the refresh loop's single step (traces, series and
    actions on demand come from :class:`OnDemand`).

    Args:
        backends: the plugin instances (built by ``console.engine.fleet.build``).
        thresholds: diagnosis thresholds.
        clock: Unix seconds (tests pass a fixed clock).
        timeout: seconds each backend call may take in all, retries included (a call that
            times out is not retried within the refresh: the next refresh is the retry).
        runbooks: failure mode -> runbook ids findings link to (``build_fleet`` reads the
            runbook catalog); None means diagnosis's shipped defaults.
    """

    def __init__(
        self,
        backends: Iterable[Backend],
        *,
        thresholds: Thresholds | None = None,
        counted: frozenset[str] = DEFAULT_COUNTED,
        window: str = "5m",
        clock: Callable[[], float] = time.time,
        timeout: float = 5.0,
        attempts: int = 2,
        environment: str = "demo",
        production: bool = False,
        read_only: bool = False,
        runbooks: Mapping[FailureMode, Sequence[str]] | None = None,
    ) -> None:
        self.backends = list(backends)
        self.thresholds = thresholds or Thresholds()
        self.counted = counted
        self.window = window
        self.clock = clock
        self.timeout = timeout
        self.attempts = attempts
        self.environment = environment
        self.production = production
        self.read_only = read_only
        self.runbooks = runbooks
        self.last: FleetSnapshot | None = None
        #: Snapshots a refresh replaced, freed by the next big refresh in its thread: freeing
        #: 10,000 functions' health costs ~35 ms, which would otherwise land on the UI
        #: thread when it lets go of the last reference.
        self._retired: list[FleetSnapshot] = []
        self._trends: dict[str, tuple[float, ...]] = {}
        self._refreshing: asyncio.Lock | None = None
        #: Backends whose call timed out in the current refresh: its other calls are not
        #: made (they would hang too); the next refresh tries again.
        self._hung: set[str] = set()
        #: Trace sources that failed in the last find_traces/trace call: name → error.
        self.trace_errors: dict[str, str] = {}
        #: Log sources that failed in the last find_logs call: name → error.
        self.log_errors: dict[str, str] = {}
        #: An HTTP client this fleet created and must close (None when injected).
        self.owned_http: Any = None

    # -- one backend call --------------------------------------------------------------

    async def _call(
        self, backend: Backend, key: str, fn: Callable[[], Any], *, cache: bool = True
    ) -> Any:
        """Call one backend capability; on failure fall back to its cached result."""
        if cache and backend.name in self._hung:
            return backend.cache.get(key)  # it timed out earlier in this refresh
        started = time.perf_counter()
        try:
            breaker = backend.breaker(key, self.clock)
            result = await resilience.call(
                fn,
                timeout=backend.timeout or self.timeout,
                attempts=self.attempts,
                breaker=breaker,
            )
            latency = round((time.perf_counter() - started) * 1000.0, 1)
            # The model's edge: no string from a plugin keeps a control character or escape.
            result = clean_result(result)
        except BackendError as exc:
            if cache and isinstance(exc, resilience.CallTimeout):
                self._hung.add(backend.name)
            backend.last_error = clean_line(str(exc)) or type(exc).__name__
            log.warning("backend %s: %s failed: %s", backend.name, key, backend.last_error)
            if not cache:
                raise
            return backend.cache.get(key)
        except Exception as exc:  # a plugin bug must not take the fleet down
            backend.last_error = clean_line(f"{type(exc).__name__}: {exc}")
            log.error(
                "backend %s: %s raised %s", backend.name, key, backend.last_error, exc_info=exc
            )
            backend.breaker(key, self.clock).failure()
            if not cache:
                raise BackendError(backend.last_error) from exc
            return backend.cache.get(key)
        backend.latency_ms = latency
        if cache:
            backend.cache[key] = result
            backend.cache_at[key] = self.clock()
        warnings = warnings_of(backend.plugin)
        backend.warnings = clean_obj(warnings) if warnings else ()
        return result

    async def call_once(self, backend: Backend, key: str, fn: Callable[[], Any]) -> Any:
        """One call outside a refresh (``callboard check --probe``): the refresh's timeout,
        retries and breaker, nothing cached. Raises BackendError (the error, one line)."""
        return await self._call(backend, key, fn, cache=False)

    def _capable(self, capability: type) -> list[Backend]:
        found = [b for b in self.backends if b.has(capability)]
        if capability is Inventory or capability is Metrics:
            # merged first-source-wins: what the embedded receiver infers from OTLP yields to
            # what a configured backend says of the same function (the local one goes last)
            found.sort(key=lambda b: is_local(b.plugin))
        return found

    def _probed(self) -> list[Backend]:
        """Backends no refresh calls: their health comes from ``check()``."""
        return [b for b in self.backends if not any(b.has(c) for c in REFRESHED)]

    async def _check(self, b: Backend, now: float) -> None:
        """Probe one backend a refresh never calls, at most once per CHECK_TTL_S.

        Between probes the last outcome stands (its stale age grows). A plugin that says it
        is ``local`` (the embedded span store) is ok without a probe.
        """
        if is_local(b.plugin):
            b.last_error, b.last_ok = None, now
            return
        if b.checked_at is not None and now - b.checked_at < CHECK_TTL_S:
            return
        b.checked_at = now
        if not isinstance(b.plugin, Health):
            b.last_error = "the plugin has no check(): its health is unknown"
            return
        b.last_error = None
        try:
            st = await self._call(b, "check", b.plugin.check, cache=False)
        except BackendError:
            return  # _call recorded the error
        if not isinstance(st, BackendStatus):
            b.last_error = f"check() returned {type(st).__name__}, not a BackendStatus"
        elif st.ok:
            b.last_ok = now
            b.latency_ms = st.latency_ms if st.latency_ms is not None else b.latency_ms
            b.warnings = tuple(st.warnings)
        else:
            b.last_error = st.error or "check failed"
            b.warnings = tuple(st.warnings)

    # -- refresh ----------------------------------------------------------------------

    async def refresh(self) -> FleetSnapshot:
        """One refresh of the whole fleet. Concurrent callers share the same refresh."""
        if self._refreshing is None:
            self._refreshing = asyncio.Lock()
        if self._refreshing.locked():
            async with self._refreshing:
                assert self.last is not None
                return self.last
        async with self._refreshing:
            snapshot = await self._refresh()
            if self.last is not None and len(self.last.functions) > BIG_FLEET:
                self._retired.append(self.last)
            self.last = snapshot
            return snapshot

    async def _refresh(self) -> FleetSnapshot:
        now = self.clock()
        self._hung.clear()
        probed = self._probed()
        refreshed = [b for b in self.backends if b not in probed]
        for b in refreshed:
            b.last_error = None

        inv = self._capable(Inventory)
        lists = await asyncio.gather(
            *(self._call(b, "functions", b.cap(Inventory).functions) for b in inv)
        )
        functions = merge_functions([fl for fl in lists if fl])

        window = self.window
        metric_backends = self._capable(Metrics)
        base_backends = [
            b
            for b in self._capable(Baselines)
            if now - b.cache_at.get("baselines", -1e18) > BASELINE_TTL_S
        ]
        change_backends = self._capable(Changes)
        alert_backends = self._capable(Alerts)

        def sig(b: Backend) -> Any:
            return self._call(b, "signals", lambda: b.cap(Metrics).signals(functions, window))

        def base(b: Backend) -> Any:
            return self._call(b, "baselines", lambda: b.cap(Baselines).baselines(functions))

        def deps(b: Backend) -> Any:
            since = now - DEPLOY_LOOKBACK_S
            return self._call(b, "deploys", lambda: b.cap(Changes).deploys(None, since))

        results = await asyncio.gather(
            asyncio.gather(*(sig(b) for b in metric_backends)),
            asyncio.gather(*(base(b) for b in base_backends)),
            asyncio.gather(*(deps(b) for b in change_backends)),
            asyncio.gather(
                *(self._call(b, "alerts", b.cap(Alerts).alerts) for b in alert_backends)
            ),
            asyncio.gather(*(self._check(b, now) for b in probed)),
        )
        for b in refreshed:
            if b.last_error is None:
                b.last_ok = now
        signal_maps = [m for m in results[0] if m]
        base_maps = [b.cache.get("baselines") or {} for b in self._capable(Baselines)]
        deploy_lists = [dl for dl in results[2] if dl]
        alerts: list[Alert] = [a for al in results[3] if al for a in al]

        def assemble(retired: list[FleetSnapshot]) -> FleetSnapshot:
            deploys = deploys_by_function([d for dl in deploy_lists for d in dl], functions)
            snapshot = self.build_snapshot(
                functions,
                merge_signals(signal_maps),
                merge_signals(base_maps),
                alerts,
                deploys,
                now,
            )
            # The snapshots the UI let go of are freed here, not on its thread; after the
            # build, so the frees also take the collector's young count back down and the
            # UI's own allocations do not trigger the next collection.
            retired.clear()
            return snapshot

        retired, self._retired = self._retired, []
        if len(functions) > BIG_FLEET:
            # Merging and diagnosing a big fleet takes tens of ms (a per-function loop
            # each): off the event loop, so a UI stays live; and without the collector
            # walking what it makes while it makes it (see ``gcpause``).
            def big() -> FleetSnapshot:
                with gc_paused():
                    return assemble(retired)

            return await asyncio.to_thread(big)
        return assemble(retired)

    def build_snapshot(
        self,
        functions: list[Function],
        signals: dict[str, Signals],
        baselines: dict[str, Signals],
        alerts: list[Alert],
        deploys: dict[str, list[Deploy]],
        now: float,
    ) -> FleetSnapshot:
        """The pure, per-function part of a refresh: classify, burn rates, diagnose."""
        by_fn_alerts = attach_alerts(alerts, functions)
        empty = Signals()
        trends = self._trends
        judge = self.judges()
        no_alerts: tuple[Alert, ...] = ()
        alerts_of = {fid: tuple(al) for fid, al in by_fn_alerts.items()}
        healths: list[FunctionHealth] = []
        append = healths.append
        for fn in functions:
            fid = fn.id
            s, findings, burn = judge(fn, signals.get(fid, empty), baselines.get(fid))
            trend = trends.get(fid, ())
            if s.success_rate is not None:
                # an immutable tuple, replaced each refresh: the snapshot can share it
                trend = (*trend[1 - TREND_POINTS :], 1.0 - s.success_rate)
                trends[fid] = trend
            append(FunctionHealth(fn, s, findings, burn, alerts_of.get(fid, no_alerts), trend))
        return FleetSnapshot(
            generated_at=datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            functions=tuple(healths),
            backends=tuple(self.status(b, now) for b in self.backends),
            deploys={k: tuple(v) for k, v in deploys.items()},
            environment=self.environment,
            production=self.production,
            read_only=self.read_only,
            taken_at=now,
            unmatched_alerts=unmatched_alerts(alerts, by_fn_alerts),
        )

    def judges(self) -> Judge:
        """How this fleet judges one function: its signals as the fleet counts them
        (success rate recounted when ``slo_counted`` differs from the default), its findings
        and burn rates — the per-function part of a snapshot, which a runbook's check or
        verify also needs for one function. The settings are read once, not per function."""
        thresholds, counted, runbooks = self.thresholds, self.counted, self.runbooks
        recount = counted != DEFAULT_COUNTED

        def judge(
            fn: Function, s: Signals, baseline: Signals | None
        ) -> tuple[Signals, tuple[Finding, ...], BurnRates | None]:
            if recount:
                s = replace(s, success_rate=success_rate(s, counted))
            burn = evaluate(s, fn.slo) if s.error_ratio else None
            return s, diagnose(fn, s, baseline, thresholds, burn=burn, runbooks=runbooks), burn

        return judge

    def status(self, b: Backend, now: float) -> BackendStatus:
        """A backend's state for the header and ``status --json``: ok only after a
        successful call (a refresh, or ``check()`` for a backend no refresh calls)."""
        stale = None if b.last_ok is None else round(now - b.last_ok, 1)
        return BackendStatus(
            name=b.name,
            plugin=b.plugin_name,
            ok=b.last_error is None and b.last_ok is not None,
            error=b.last_error,
            latency_ms=b.latency_ms,
            stale_s=stale,
            warnings=b.warnings,
        )

    # -- on demand ----------------------------------------------------------------------

    async def aclose(self) -> None:
        for b in self.backends:
            with contextlib.suppress(Exception):  # closing must never raise past here
                await b.plugin.aclose()
        if self.owned_http is not None:
            await self.owned_http.aclose()
            self.owned_http = None
