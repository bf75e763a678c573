"""One step at a time: refusal, confirmation, intent and result, retries.

:class:`StepRunner` runs a single step and has the run's
:class:`~console.engine.step_records.RunRecorder` write each change; the
:class:`~console.engine.executor.Executor` owns both and drives a whole run (order, dry
run, resume, cancel, undo). No Textual here.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from console.core import events as ev
from console.core.model import ActionPlan, ActionRequest, Function
from console.core.redact import redact
from console.core.runbook import Step, step_mutates
from console.core.runbook_params import Scope, fill, fill_obj
from console.engine.fleet.resilience import backoff_delay
from console.engine.runbooks import stepkinds
from console.engine.runbooks.confirmation import Confirm, ConfirmRequest, Decide
from console.engine.runbooks.runs import RunRecord, StepRecord
from console.engine.runbooks.step_records import RunRecorder, result_event
from console.engine.runbooks.stepkinds import Outcome
from console.engine.store.events import utc_now
from console.errors import ActionError, BackendError, CallboardError, SecretError, UserError

if TYPE_CHECKING:
    import httpx

    from console.core.snapshot import FunctionHealth
    from console.engine.fleet.refresh import Fleet

__all__ = ["Confirm", "ConfirmRequest", "Decide", "StepRunner", "short_error", "unexpected_error"]

BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 30.0
#: Actions that write to another system even when their plugin calls them non-mutating
#: (an annotation changes a dashboard): read-only refuses them too.
WRITES_ELSEWHERE = frozenset({"annotate"})
REPLANNED = "the plan changed since it was first shown"
#: The steps whose plan a resume compares with the one first shown.
_PLANNED_KINDS = frozenset({"action", "command", "http"})


async def _never(_: Any, *__: Any) -> Any:
    return None


class StepRunner:
    """Runs single steps against a fleet; ``recorder`` writes what happens.

    Args:
        secret: resolves ``{{ secrets.NAME }}`` (the SecretStore, which registers values
            with the redactor).
        confirm: asked before confirm/manual/production-mutating steps; None refuses them.
        poll_every: overrides every verify step's interval (tests pass 0); the number of
            polls stays bounded by the step's own ``within / every``.
        sleep, rand: injected for retries' full-jitter backoff (tests never wait).
    """

    def __init__(
        self,
        fleet: Fleet,
        recorder: RunRecorder,
        *,
        secret: Callable[[str], str],
        confirm: Confirm | None = None,
        read_only: bool | None = None,
        poll_every: float | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.fleet = fleet
        self.recorder = recorder
        self.secret = secret
        self.confirm: Confirm = confirm or _never
        self.read_only = fleet.read_only if read_only is None else read_only
        self.poll_every = poll_every
        self.sleep = sleep
        self.rand = rand
        self.http = http
        self.cancelled = False
        #: Set by :meth:`cancel`: a verify's wait or a retry's backoff ends at once.
        self._cancel_event = asyncio.Event()
        #: On resume: the plan each action step showed first (or was last confirmed with).
        self.baselines: dict[str, str] = {}
        #: On resume: a failing check means the guard no longer holds.
        self.rechecking = False
        self._own_http = False

    def cancel(self) -> None:
        """Stop: at once inside a verify's wait, a retry's backoff or a command."""
        self.cancelled = True
        self._cancel_event.set()

    def uncancel(self) -> None:
        """Ready to run again after a cancel (an undo after a cancelled run)."""
        self.cancelled = False
        self._cancel_event.clear()

    async def aclose(self) -> None:
        """Close the HTTP client this runner created (an injected one is left open)."""
        if self.http is not None and self._own_http:
            await self.http.aclose()
            self.http = None

    async def run(self, record: RunRecord, step: Step, rec: StepRecord, scope: Scope) -> str:
        """Run one step through refusal, confirmation, retries; returns its final status."""
        plan: ActionPlan | None = None
        target = record.function_id
        try:
            if step.kind == "action":
                plan = await self.plan(step, scope, record)
                target = plan.request.function_id
        except (ActionError, BackendError, SecretError, KeyError, TimeoutError) as exc:
            return self.recorder.end_step(
                record, step, rec, "failed", f"cannot plan: {short_error(exc)}", None, 0.0
            )
        except Exception as exc:  # a plugin's bug must fail the step, not crash the run
            return self.recorder.end_step(
                record, step, rec, "failed", f"cannot plan: {unexpected_error(exc)}", None, 0.0
            )
        mutates = step_mutates(step, None if plan is None else plan.mutates)
        detail = plan_text(plan) if plan is not None else stepkinds.describe(step, scope)
        if self.read_only and (mutates or step.action in WRITES_ELSEWHERE):
            return self.recorder.refuse(
                record, step, rec, "read-only: mutating steps are refused", detail
            )
        previous = self.baselines.pop(step.id, "") if step.kind in _PLANNED_KINDS else ""
        if previous == detail:
            previous = ""
        if previous:
            self.recorder.note(record, ev.step_replanned(step.id, previous, detail))
        reason = (
            REPLANNED
            if previous
            else "a confirm step"
            if step.confirm
            else "a manual step"
            if step.kind == "manual"
            else "a mutating step in production"
            if mutates and self.fleet.production
            else ""
        )
        if reason:
            req = ConfirmRequest(
                record.id,
                step.id,
                step.label,
                step.kind,
                target,
                self.fleet.environment,
                self.fleet.production,
                reason,
                detail,
                previous,
            )
            if not await self.confirm(req):
                return self.recorder.refuse(
                    record, step, rec, f"confirmation not given ({reason})", detail
                )
            self.recorder.note(record, ev.step_confirmed(step.id, target, reason, detail))
        outcome = Outcome(False, "not run")
        for attempt in range(step.retries + 1):
            rec.status, rec.started = "running", utc_now()
            intent = ev.step_intent(step.id, step.kind, target, attempt + 1, detail)
            self.recorder.step(record, rec, [intent])  # before it runs
            began = time.monotonic()
            outcome = await self._attempt(step, scope, plan)
            took = time.monotonic() - began
            status = "done" if outcome.ok else "failed"
            if outcome.details.get("stopped"):
                status = "unknown"  # killed part-way: a resume asks whether it took effect
            elif outcome.details.get("cancelled"):
                status = "cancelled"
            elif step.kind == "check" and not outcome.ok and self.rechecking:
                outcome.output = f"guard no longer holds: {outcome.output}"
            if outcome.ok or status in ("cancelled", "unknown") or attempt == step.retries:
                ended = self.recorder.end_step(
                    record, step, rec, status, outcome.output, outcome.exit_code, took
                )
                if step.kind == "action" and record.incident_id:
                    await self._annotate(record, step, ended, outcome.output)
                return ended
            failed = result_event(step, status, outcome.output, outcome.exit_code, took)
            self.recorder.note(record, failed)  # this attempt; a retry follows
            if await self._pause(backoff_delay(attempt, BACKOFF_BASE_S, BACKOFF_CAP_S, self.rand)):
                why = f"cancelled before attempt {attempt + 2}: {outcome.output}"
                end = self.recorder.end_step
                return end(record, step, rec, "cancelled", why, outcome.exit_code, None)
        return "failed"  # unreachable: the loop returns on its last attempt

    async def _attempt(self, step: Step, scope: Scope, plan: ActionPlan | None) -> Outcome:
        timeout = step.timeout or stepkinds.DEFAULT_TIMEOUT.get(step.kind, 60.0)
        try:
            if step.kind == "command":
                argv = stepkinds.argv_of(step, scope)
                return await stepkinds.run_command(argv, timeout, self._cancel_event)
            if step.kind == "action" and plan is not None:
                result = await asyncio.wait_for(self.fleet.execute(plan), timeout)
                text = "\n".join([result.message, *plan.changes])
                return Outcome(result.ok, text, details=dict(result.details))
            if step.kind == "http":
                return await stepkinds.run_http(step, scope, self._client(), timeout)
            if step.kind == "check" and step.expect is not None:
                health = await asyncio.wait_for(self.health(scope), timeout)
                ok, seen = await stepkinds.evaluate(step.expect, health, self.fleet, scope)
                return Outcome(ok, seen)
            if step.kind == "verify":
                return await self._verify(step, scope)
            return Outcome(True, str(fill(step.text, scope)))  # note, manual (confirmed)
        except TimeoutError:
            return Outcome(False, f"timed out after {timeout:g}s")
        except (ActionError, BackendError, SecretError, KeyError, LookupError, ValueError) as exc:
            return Outcome(False, short_error(exc))
        except Exception as exc:  # anything else fails this step; the run ends failed
            return Outcome(False, unexpected_error(exc))

    async def _verify(self, step: Step, scope: Scope) -> Outcome:
        """Poll the expectation until it holds, at most ``within / every`` + 1 times."""
        assert step.expect is not None
        every = step.every if self.poll_every is None else self.poll_every
        polls = max(1, math.ceil(step.within / step.every)) + 1
        deadline = time.monotonic() + step.within
        seen = ""
        for n in range(1, polls + 1):
            ok, seen = await stepkinds.evaluate(
                step.expect, await self.health(scope), self.fleet, scope
            )
            if ok:
                return Outcome(True, f"poll {n}: {seen}")
            if n == polls or time.monotonic() >= deadline:
                break
            if await self._pause(every):
                why = f"cancelled during poll {n} of at most {polls}: {seen}"
                return Outcome(False, why, details={"cancelled": True})
        return Outcome(False, f"not within {step.within:g}s ({n} polls): {seen}")

    async def _pause(self, seconds: float) -> bool:
        """Wait ``seconds`` (through the injected sleep) unless a cancel comes first;
        returns whether the run was cancelled."""
        if self.cancelled:
            return True
        wait = asyncio.ensure_future(self.sleep(seconds))
        stop = asyncio.ensure_future(self._cancel_event.wait())
        try:
            await asyncio.wait({wait, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (wait, stop):
                task.cancel()
            await asyncio.gather(wait, stop, return_exceptions=True)
        return self.cancelled

    # -- helpers ----------------------------------------------------------------------

    async def function(self, function_id: str) -> Function:
        snap = self.fleet.last or await self.fleet.refresh()
        health = snap.by_id().get(function_id) or (await self.fleet.refresh()).by_id().get(
            function_id
        )
        if health is None:
            raise UserError(f"no function {function_id!r} in the fleet (see `callboard status`)")
        return health.function

    async def health(self, scope: Scope) -> FunctionHealth:
        """The step's function now: its signals only, not a whole refresh."""
        health = await self.fleet.read_function(scope.function.id)
        if health is None:
            raise LookupError(f"function {scope.function.id!r} is gone from the fleet")
        return health

    async def plan(self, step: Step, scope: Scope, record: RunRecord) -> ActionPlan:
        target = str(fill(step.target, scope)) if step.target else record.function_id
        reason = (
            str(fill(step.reason, scope))
            if step.reason
            else f"runbook {record.runbook} (run {record.id})"
        )
        request = ActionRequest(step.action, target, fill_obj(dict(step.params), scope), reason)
        return await asyncio.wait_for(self.fleet.plan(request), step.timeout or 30.0)

    async def _annotate(self, record: RunRecord, step: Step, status: str, output: str) -> None:
        """An action taken during an incident goes to the dashboards too (best effort)."""
        from console.engine.runbooks.annotations import REFUSED, annotate

        first = output.splitlines()[0] if output else ""
        text = f"{record.runbook} · {step.id} {status} on {record.function_id}: {first}"
        errors = await annotate(
            self.fleet.backends,
            text,
            incident_id=record.incident_id or "",
            function_id=record.function_id,
            tags=("action", step.action or step.kind),
            read_only=self.read_only,
        )
        refused = {k: v for k, v in errors.items() if v == REFUSED}
        failed = {k: v for k, v in errors.items() if v != REFUSED}
        if refused:
            self.recorder.note(
                record, ev.annotation_refused(sorted(refused), REFUSED, step=step.id)
            )
        if failed:
            self.recorder.note(record, ev.annotation_failed(step.id, failed))

    def _client(self) -> httpx.AsyncClient:
        if self.http is None:
            from console.engine.fleet.build import make_http_client

            self.http = make_http_client()
            self._own_http = True
        return self.http


def plan_text(plan: ActionPlan | None) -> str:
    if plan is None:
        return ""
    return "\n".join([f"{plan.backend}: {plan.summary}", *(f"  {c}" for c in plan.changes)])


def short_error(exc: BaseException) -> str:
    """The message of an expected error (a placeholder's KeyError names the placeholder)."""
    if isinstance(exc, KeyError):
        return f"unknown placeholder {exc.args[0] if exc.args else exc}"
    return str(exc) or type(exc).__name__


def unexpected_error(exc: BaseException) -> str:
    """An error no step expects, as its type and message (secrets redacted), no traceback."""
    if isinstance(exc, CallboardError):
        return redact(short_error(exc))
    return redact(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
