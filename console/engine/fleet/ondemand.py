# mypy: disable-error-code="type-abstract"
# (Backend.cap takes a capability protocol: mypy#4717 flags passing one as type[C])
"""What the fleet answers on demand, outside the refresh: one function's health, traces,
series and actions.

A mixin of :class:`console.engine.fleet.Fleet`; every call goes through the fleet's
``_call`` (timeout, retries, breaker) without caching.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from console.core.model import (
    ActionPlan,
    ActionRequest,
    ActionResult,
    BurnRates,
    Finding,
    Function,
    Signals,
    Trace,
    TraceQuery,
    TraceSummary,
)
from console.core.redact import drop_partial, redact
from console.core.sanitize import clean_line, clean_obj
from console.core.snapshot import FleetSnapshot, FunctionHealth
from console.engine.fleet.backend import Backend
from console.engine.fleet.inventory import merge_signals
from console.errors import ActionError, BackendError, CallboardError
from console.plugin_api import Actions, Baselines, Metrics, Traces

log = logging.getLogger("callboard.actions")


#: One function's (signals, findings, burn rates), judged as the fleet does (see
#: :meth:`console.engine.fleet.refresh.Fleet.judges`).
Judge = Callable[
    [Function, Signals, Signals | None], tuple[Signals, tuple[Finding, ...], BurnRates | None]
]


async def ask_every(
    call: Callable[..., Any],
    sources: list[Backend],
    key: str,
    ask: Callable[[Backend], Callable[[], Any]],
) -> tuple[list[Any], dict[str, str]]:
    """Every source's answer to ``ask(source)`` at once, through the fleet's ``call``
    (uncached), in order; a source that fails is left out, its error named by its name."""
    results = await asyncio.gather(
        *(call(b, key, ask(b), cache=False) for b in sources), return_exceptions=True
    )
    answers: list[Any] = []
    errors: dict[str, str] = {}
    for b, r in zip(sources, results, strict=True):
        if isinstance(r, BaseException):
            errors[b.name] = clean_line(str(r)) or type(r).__name__
        else:
            answers.append(r)
    return answers, errors


class OnDemand:
    """One function's health, trace search, one trace, a signal's history, and actions
    (plan, then execute)."""

    trace_errors: dict[str, str]
    last: FleetSnapshot | None
    window: str
    judges: Callable[[], Judge]
    _call: Callable[..., Any]
    _capable: Callable[[type], list[Backend]]
    refresh: Callable[[], Any]

    async def read_function(self, function_id: str) -> FunctionHealth | None:
        """One function's health now, asking each metrics backend for that function only.

        What a runbook's ``check`` and ``verify`` read, instead of a whole refresh: the
        function itself comes from the last snapshot (one refresh when there is none yet);
        its signals from one ``signals([function], window)`` call per metrics backend (a
        failing backend gives its last refresh's answer, as in a refresh); baselines as the
        last refresh cached them; alerts and the trend as the last snapshot has them. The
        snapshot, the trends and the inventory are left as they are.

        Returns: None when the function is not in the fleet.
        """
        snapshot = self.last or await self.refresh()
        known = snapshot.by_id().get(function_id)
        if known is None:
            return None
        fn = known.function

        async def signals_of(b: Backend) -> Any:
            try:
                call = partial(b.cap(Metrics).signals, [fn], self.window)
                return await self._call(b, "signals", call, cache=False)
            except BackendError:  # _call recorded the error: its last good answer stands
                return b.cache.get("signals")

        maps = await asyncio.gather(*(signals_of(b) for b in self._capable(Metrics)))
        s = merge_signals([m for m in maps if m]).get(fn.id) or Signals()
        baselines = merge_signals(
            [b.cache.get("baselines") or {} for b in self._capable(Baselines)]
        )
        s, findings, burn = self.judges()(fn, s, baselines.get(fn.id))
        return FunctionHealth(fn, s, findings, burn, known.alerts, known.trend)

    async def find_traces(self, query: TraceQuery) -> list[TraceSummary]:
        """Search every trace source at once; errors first, then newest. A source that
        fails is skipped and named in ``trace_errors``."""
        answers, self.trace_errors = await ask_every(
            self._call,
            self._capable(Traces),
            "traces",
            lambda b: partial(b.cap(Traces).find_traces, query),
        )
        found: list[TraceSummary] = []
        for r in answers:
            found.extend(r or ())
        found.sort(key=lambda t: (not t.error_count, -t.start_ns))
        return found[: query.limit]

    async def trace(self, trace_id: str) -> Trace | None:
        """The first trace source (in order) that has ``trace_id``; failing sources are
        skipped and named in ``trace_errors``."""
        self.trace_errors = {}
        for b in self._capable(Traces):
            try:
                t = await self._call(
                    b, "trace", partial(b.cap(Traces).trace, trace_id), cache=False
                )
            except BackendError as exc:
                self.trace_errors[b.name] = clean_line(str(exc)) or type(exc).__name__
                continue
            if t is not None:
                return t
        return None

    async def series(
        self, fn: Function, signal: str, start: float, end: float, step: float
    ) -> list[tuple[float, float]]:
        """A signal's history from the first metrics backend that has it."""
        for b in self._capable(Metrics):
            try:
                pts = await self._call(
                    b,
                    "series",
                    partial(b.cap(Metrics).series, fn, signal, start, end, step),
                    cache=False,
                )
            except BackendError:
                continue
            if pts:
                return list(pts)
        return []

    def action_backend(self, action: str) -> Backend:
        """The backend that offers ``action``. Raises ActionError when none does."""
        for b in self._capable(Actions):
            if action in b.cap(Actions).actions:
                return b
        offered = sorted({a for b in self._capable(Actions) for a in b.cap(Actions).actions})
        raise ActionError(
            f"no configured backend offers action {action!r} (offered: {', '.join(offered) or 'none'})"
        )

    async def plan(self, request: ActionRequest) -> ActionPlan:
        """The backend's dry run of ``request``. Raises: ActionError (also for a plugin bug)."""
        b = self.action_backend(request.action)
        try:
            plan: ActionPlan = await b.cap(Actions).plan(request)
        except CallboardError:
            raise
        except Exception as exc:  # a plugin bug is a typed failure, not a traceback
            raise ActionError(clean_line(f"{b.name}: {type(exc).__name__}: {exc}")) from exc
        return clean_obj(plan)  # plugin text, cleaned at the model's edge like a refresh's

    async def execute(self, plan: ActionPlan) -> ActionResult:
        """Carry ``plan`` out. Raises: ActionError (also for a plugin bug), BackendError."""
        b = self.action_backend(plan.request.action)
        req = plan.request
        log.info("action %s on %s via %s: %s", req.action, req.function_id, b.name, plan.summary)
        try:
            result: ActionResult = await b.cap(Actions).execute(plan)
        except CallboardError as exc:
            log.warning("action %s on %s failed: %s", req.action, req.function_id, exc)
            raise
        except Exception as exc:  # a plugin bug is a typed failure, not a traceback
            log.error("action %s on %s raised", req.action, req.function_id, exc_info=exc)
            raise ActionError(clean_line(f"{b.name}: {type(exc).__name__}: {exc}")) from exc
        # Plugin text, cleaned at the model's edge; a message a plugin cut (a response
        # snippet) must not end in half a secret that redaction cannot recognise.
        result = clean_obj(result)
        if isinstance(result, ActionResult) and isinstance(result.message, str):
            message = drop_partial(redact(result.message))
            if message != result.message:
                result = replace(result, message=message)
        log.info("action %s on %s: %s (%s)", req.action, req.function_id,
                 "ok" if result.ok else "failed", result.message)  # fmt: skip
        return result
