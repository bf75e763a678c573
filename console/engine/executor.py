"""The runbook executor: runs steps in order, safely, with a record that survives a crash.

No Textual: the CLI and the TUI drive it and inject how to ask for confirmation
(``confirm``) and how to settle a step whose outcome a crash left unknown (``decide``).

- Dry run plans every step without side effects (actions through their plugin's ``plan``).
- Read-only refuses every mutating step; the refusal is an event.
- A ``confirm`` step, a ``manual`` step and any mutating step in production need
  ``confirm`` to say yes; the request names the target and the environment.
- Every attempt writes a ``step.intent`` event *before* it runs and ``step.result`` after
  (output, exit code, duration); the event log redacts secrets.
- Resume skips done steps; an ``unknown`` step re-runs only if idempotent, otherwise
  ``decide`` says whether it took effect (no answer refuses the resume).
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from console.core.model import ActionPlan, ActionRequest, Function
from console.core.redact import redact
from console.core.runbook import Runbook, Step
from console.core.runbook_params import Scope, fill, fill_obj
from console.engine import stepkinds
from console.engine.events import EventLog, utc_now
from console.engine.runs import UNDO_OFFSET, RunRecord, RunStore, StepRecord
from console.engine.stepkinds import Outcome
from console.errors import ActionError, BackendError, SecretError, UserError

if TYPE_CHECKING:
    import httpx

    from console.core.snapshot import FunctionHealth
    from console.engine.fleet import Fleet
    from console.engine.store import Store

__all__ = ["ConfirmRequest", "Executor"]

BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 30.0
RESUMABLE = frozenset({"interrupted", "failed", "refused", "cancelled"})


@dataclass(frozen=True)
class ConfirmRequest:
    """What an operator is asked to approve: the step, its target and the environment."""

    run_id: str
    step_id: str
    step: str
    kind: str
    target: str
    environment: str
    production: bool
    reason: str
    detail: str

    def prompt(self) -> str:
        env = f"PRODUCTION {self.environment}" if self.production else self.environment
        return f"{self.step} — {self.detail}\non {self.target} in {env} ({self.reason}). Proceed?"


Confirm = Callable[[ConfirmRequest], Awaitable[bool]]
Decide = Callable[[Step, StepRecord], Awaitable[bool | None]]


async def _never(_: Any, *__: Any) -> Any:
    return None


class Executor:
    """Runs runbooks against a fleet, recording runs, steps and events in ``store``.

    Args:
        secret: resolves ``{{ secrets.NAME }}`` (the SecretStore, which registers values
            with the redactor).
        confirm: asked before confirm/manual/production-mutating steps; None refuses them.
        decide: asked on resume whether an unknown, non-idempotent step took effect.
        poll_every: overrides every verify step's interval (tests pass 0); the number of
            polls stays bounded by the step's own ``within / every``.
        sleep, rand: injected for retries' full-jitter backoff (tests never wait).
        on_update: called with the run after every recorded change (the TUI's live view).
    """

    def __init__(
        self,
        fleet: Fleet,
        store: Store,
        *,
        secret: Callable[[str], str],
        confirm: Confirm | None = None,
        decide: Decide | None = None,
        read_only: bool | None = None,
        poll_every: float | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        http: httpx.AsyncClient | None = None,
        on_update: Callable[[RunRecord], None] | None = None,
    ) -> None:
        self.fleet = fleet
        self.runs = RunStore(store)
        self.events = EventLog(store)
        self.secret = secret
        self.confirm: Confirm = confirm or _never
        self.decide: Decide = decide or _never
        self.read_only = fleet.read_only if read_only is None else read_only
        self.poll_every = poll_every
        self.sleep = sleep
        self.rand = rand
        self.http = http
        self.on_update = on_update
        self._cancelled = False
        self._own_http = False
        #: The run this executor is driving (the CLI marks it interrupted on Ctrl-C).
        self.current_run: str | None = None

    # -- the public surface ------------------------------------------------------------

    async def start(
        self,
        runbook: Runbook,
        function_id: str,
        params: Mapping[str, Any],
        *,
        dry_run: bool = False,
        incident_id: str | None = None,
    ) -> RunRecord:
        """Run (or dry-run) ``runbook`` on ``function_id`` with validated ``params``.

        Raises:
            UserError: the function is not in the fleet.
        """
        fn = await self._function(function_id)
        record = self.runs.create(
            runbook.id,
            runbook.path,
            function_id,
            dict(params),
            [(s.id, s.kind) for s in runbook.steps],
            dry_run=dry_run,
            incident_id=incident_id,
            environment=self.fleet.environment,
        )
        self.current_run = record.id
        self._event(
            record,
            "run.started",
            {
                "runbook": runbook.id,
                "params": dict(params),
                "dry_run": dry_run,
                "environment": self.fleet.environment,
                "production": self.fleet.production,
                "read_only": self.read_only,
            },
        )
        scope = Scope(params, fn, self.secret, record.id)
        if dry_run:
            return await self._dry(runbook, record, scope)
        return await self._drive(runbook, record, scope)

    async def resume(self, runbook: Runbook, run_id: str, params: Mapping[str, Any]) -> RunRecord:
        """Carry on an interrupted (or failed, refused, cancelled) run where it stopped.

        Raises:
            UserError: no such run, a dry run, one still running, or the runbook changed.
        """
        self.runs.reconcile()
        record = self.runs.get(run_id)
        if record is None:
            raise UserError(f"no run {run_id!r} (see `callboard runs`)")
        if record.dry_run:
            raise UserError(f"run {run_id} was a dry run: start a real run instead")
        if record.status == "running":
            raise UserError(f"run {run_id} is still running (pid {record.pid})")
        if record.status not in RESUMABLE:
            raise UserError(f"run {run_id} {record.status}: nothing to resume")
        ids = [s.id for s in runbook.steps]
        if [s.id for s in record.steps if s.idx < UNDO_OFFSET] != ids:
            raise UserError(
                f"runbook {runbook.id} changed since run {run_id} started: its steps differ"
            )
        fn = await self._function(record.function_id)
        self.runs.claim(run_id)
        self.current_run = run_id
        record.status = "running"
        self._event(record, "run.resumed", {"runbook": runbook.id})
        for step, rec in zip(runbook.steps, record.steps, strict=False):
            if rec.status in ("unknown", "running"):
                if not await self._settle(record, step, rec):
                    return self._finish(record, "refused")
            elif rec.status != "done":
                rec.status = "pending"
        return await self._drive(runbook, record, Scope(params, fn, self.secret, record.id))

    async def aclose(self) -> None:
        """Close the HTTP client this executor created (an injected one is left open)."""
        if self.http is not None and self._own_http:
            await self.http.aclose()
            self.http = None

    def cancel(self) -> None:
        """Stop the run before its next step (the step in progress finishes)."""
        self._cancelled = True

    async def undo(self, runbook: Runbook, run_id: str, params: Mapping[str, Any]) -> RunRecord:
        """Run the ``undo`` of every done step, newest first (after a cancel, on request)."""
        record = self.runs.get(run_id)
        if record is None:
            raise UserError(f"no run {run_id!r}")
        fn = await self._function(record.function_id)
        scope = Scope(params, fn, self.secret, record.id)
        self._cancelled = False
        self._event(record, "run.undo", {"runbook": runbook.id})
        final = record.status
        for step, rec in reversed(list(zip(runbook.steps, record.steps, strict=False))):
            if rec.status != "done" or step.undo is None:
                continue
            undo_rec = StepRecord(UNDO_OFFSET + rec.idx, step.undo.id, step.undo.kind)
            record.steps.append(undo_rec)
            result = await self._step(record, step.undo, undo_rec, scope)
            if result != "done":
                final = result
                break
        return self._finish(record, final)

    # -- driving -------------------------------------------------------------------------

    async def _drive(self, runbook: Runbook, record: RunRecord, scope: Scope) -> RunRecord:
        for step, rec in zip(runbook.steps, record.steps, strict=False):
            if rec.status == "done":
                continue
            if self._cancelled:
                self._event(record, "run.cancelled", {"before": step.id})
                return self._finish(record, "cancelled")
            result = await self._step(record, step, rec, scope)
            if result != "done":
                return self._finish(record, result)
        return self._finish(record, "succeeded")

    async def _dry(self, runbook: Runbook, record: RunRecord, scope: Scope) -> RunRecord:
        status = "succeeded"
        for step, rec in zip(runbook.steps, record.steps, strict=False):
            rec.status, rec.started = "planned", utc_now()
            notes = []
            try:
                if step.kind == "action":
                    plan = await self._plan(step, scope, record)
                    rec.output = _plan_text(plan)
                    mutates = plan.mutates if step.mutates is None else step.mutates
                elif step.kind == "check" and step.expect is not None:
                    health = await self._health(scope)
                    _, seen = await stepkinds.evaluate(step.expect, health, self.fleet, scope)
                    rec.output = f"{stepkinds.describe(step, scope)}; now {seen}"
                    mutates = False
                else:
                    rec.output = stepkinds.describe(step, scope)
                    mutates = step.may_mutate
            except (
                ActionError,
                BackendError,
                SecretError,
                KeyError,
                LookupError,
                TimeoutError,
            ) as exc:
                rec.status, rec.output, status = "failed", f"cannot plan: {_err(exc)}", "failed"
                mutates = False
            if mutates and self.read_only:
                notes.append("read-only: this step would be refused")
            elif step.confirm or step.kind == "manual" or (mutates and self.fleet.production):
                notes.append("needs confirmation")
            rec.output = "\n".join([rec.output, *notes]).strip()
            rec.ended = utc_now()
            self._save(record, rec)
        return self._finish(record, status)

    async def _settle(self, record: RunRecord, step: Step, rec: StepRecord) -> bool:
        """Decide what to do with a step a crash left unknown; False refuses the resume."""
        if step.idempotent:
            decision: bool | None = False
            why = "idempotent: re-run"
        else:
            decision = await self.decide(step, rec)
            why = {
                True: "operator: it took effect",
                False: "operator: it did not take effect; re-run",
                None: "outcome unknown and no decision given",
            }[decision]
        self._event(record, "step.outcome", {"step": step.id, "decision": why}, step.id)
        if decision is None:
            self._event(record, "step.refused", {"step": step.id, "reason": why}, step.id)
            return False
        rec.status = "done" if decision else "pending"
        rec.output = f"{rec.output}\n[{why}]".strip()
        self._save(record, rec)
        return True

    async def _step(self, record: RunRecord, step: Step, rec: StepRecord, scope: Scope) -> str:
        """Run one step through refusal, confirmation, retries; returns its final status."""
        plan: ActionPlan | None = None
        target = record.function_id
        try:
            if step.kind == "action":
                plan = await self._plan(step, scope, record)
                target = plan.request.function_id
        except (ActionError, BackendError, SecretError, KeyError, TimeoutError) as exc:
            return self._end(record, step, rec, "failed", f"cannot plan: {_err(exc)}", None, 0.0)
        mutates = step.may_mutate if plan is None or step.mutates is not None else plan.mutates
        detail = _plan_text(plan) if plan is not None else stepkinds.describe(step, scope)
        if mutates and self.read_only:
            return self._refuse(record, step, rec, "read-only: mutating steps are refused", detail)
        reason = (
            "a confirm step"
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
            )
            if not await self.confirm(req):
                return self._refuse(record, step, rec, f"confirmation not given ({reason})", detail)
            self._event(
                record,
                "step.confirmed",
                {"step": step.id, "target": target, "reason": reason},
                step.id,
            )
        outcome = Outcome(False, "not run")
        for attempt in range(step.retries + 1):
            rec.status, rec.started = "running", utc_now()
            self._event(
                record,
                "step.intent",
                {
                    "step": step.id,
                    "kind": step.kind,
                    "target": target,
                    "attempt": attempt + 1,
                    "what": detail,
                },
                step.id,
            )
            self._save(record, rec)
            began = time.monotonic()
            outcome = await self._attempt(step, scope, plan)
            took = time.monotonic() - began
            status = "done" if outcome.ok else "failed"
            if outcome.ok or attempt == step.retries:
                return self._end(record, step, rec, status, outcome.output, outcome.exit_code, took)
            self._result_event(record, step, status, outcome.output, outcome.exit_code, took)
            await self.sleep(self.rand() * min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt))
        return "failed"  # unreachable: the loop returns on its last attempt

    async def _attempt(self, step: Step, scope: Scope, plan: ActionPlan | None) -> Outcome:
        timeout = step.timeout or stepkinds.DEFAULT_TIMEOUT.get(step.kind, 60.0)
        try:
            if step.kind == "command":
                return await stepkinds.run_command(stepkinds.argv_of(step, scope), timeout)
            if step.kind == "action" and plan is not None:
                result = await asyncio.wait_for(self.fleet.execute(plan), timeout)
                text = "\n".join([result.message, *plan.changes])
                return Outcome(result.ok, text, details=dict(result.details))
            if step.kind == "http":
                return await stepkinds.run_http(step, scope, self._client(), timeout)
            if step.kind == "check" and step.expect is not None:
                health = await asyncio.wait_for(self._health(scope), timeout)
                ok, seen = await stepkinds.evaluate(step.expect, health, self.fleet, scope)
                return Outcome(ok, seen)
            if step.kind == "verify":
                return await self._verify(step, scope)
            return Outcome(True, str(fill(step.text, scope)))  # note, manual (confirmed)
        except TimeoutError:
            return Outcome(False, f"timed out after {timeout:g}s")
        except (ActionError, BackendError, SecretError, KeyError, LookupError, ValueError) as exc:
            return Outcome(False, _err(exc))

    async def _verify(self, step: Step, scope: Scope) -> Outcome:
        """Poll the expectation until it holds, at most ``within / every`` + 1 times."""
        assert step.expect is not None
        every = step.every if self.poll_every is None else self.poll_every
        polls = max(1, math.ceil(step.within / step.every)) + 1
        deadline = time.monotonic() + step.within
        seen = ""
        for n in range(1, polls + 1):
            ok, seen = await stepkinds.evaluate(
                step.expect, await self._health(scope), self.fleet, scope
            )
            if ok:
                return Outcome(True, f"poll {n}: {seen}")
            if n == polls or time.monotonic() >= deadline:
                break
            await self.sleep(every)
        return Outcome(False, f"not within {step.within:g}s ({n} polls): {seen}")

    # -- helpers ----------------------------------------------------------------------

    async def _function(self, function_id: str) -> Function:
        snap = self.fleet.last or await self.fleet.refresh()
        health = snap.by_id().get(function_id) or (await self.fleet.refresh()).by_id().get(
            function_id
        )
        if health is None:
            raise UserError(f"no function {function_id!r} in the fleet (see `callboard status`)")
        return health.function

    async def _health(self, scope: Scope) -> FunctionHealth:
        health = (await self.fleet.refresh()).by_id().get(scope.function.id)
        if health is None:
            raise LookupError(f"function {scope.function.id!r} is gone from the fleet")
        return health

    async def _plan(self, step: Step, scope: Scope, record: RunRecord) -> ActionPlan:
        target = str(fill(step.target, scope)) if step.target else record.function_id
        reason = (
            str(fill(step.reason, scope))
            if step.reason
            else f"runbook {record.runbook} (run {record.id})"
        )
        request = ActionRequest(step.action, target, fill_obj(dict(step.params), scope), reason)
        return await asyncio.wait_for(self.fleet.plan(request), step.timeout or 30.0)

    def _client(self) -> httpx.AsyncClient:
        if self.http is None:
            from console.engine.build import make_http_client

            self.http = make_http_client()
            self._own_http = True
        return self.http

    def _refuse(self, record: RunRecord, step: Step, rec: StepRecord, why: str, detail: str) -> str:
        self._event(
            record, "step.refused", {"step": step.id, "reason": why, "what": detail}, step.id
        )
        return self._end(record, step, rec, "refused", f"refused: {why}\n{detail}", None, None)

    def _end(
        self,
        record: RunRecord,
        step: Step,
        rec: StepRecord,
        status: str,
        output: str,
        code: int | None,
        took: float | None,
    ) -> str:
        rec.status, rec.output, rec.exit_code, rec.ended = status, redact(output), code, utc_now()
        rec.started = rec.started or rec.ended
        if status != "refused":
            self._result_event(record, step, status, output, code, took)
        self._save(record, rec)
        return status

    def _result_event(
        self,
        record: RunRecord,
        step: Step,
        status: str,
        output: str,
        code: int | None,
        took: float | None,
    ) -> None:
        data = {
            "step": step.id,
            "kind": step.kind,
            "status": status,
            "output": output[-4000:],
            "exit_code": code,
            "duration_ms": None if took is None else round(took * 1000, 1),
        }
        self._event(record, "step.result", data, step.id)

    def _finish(self, record: RunRecord, status: str) -> RunRecord:
        record.status = status
        self.runs.set_status(record.id, status)
        self._event(record, "run.ended", {"status": status})
        fresh = self.runs.get(record.id)
        if fresh is not None:
            record.ended, record.steps = fresh.ended, fresh.steps
        if self.on_update is not None:
            self.on_update(record)
        return record

    def _save(self, record: RunRecord, rec: StepRecord) -> None:
        self.runs.save_step(record.id, rec)
        if self.on_update is not None:
            self.on_update(record)

    def _event(
        self, record: RunRecord, kind: str, data: dict[str, Any], step: str | None = None
    ) -> None:
        self.events.append(
            kind,
            data,
            incident_id=record.incident_id,
            run_id=record.id,
            function_id=record.function_id,
        )


def _plan_text(plan: ActionPlan | None) -> str:
    if plan is None:
        return ""
    return "\n".join([f"{plan.backend}: {plan.summary}", *(f"  {c}" for c in plan.changes)])


def _err(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"unknown placeholder {exc.args[0] if exc.args else exc}"
    return str(exc) or type(exc).__name__
