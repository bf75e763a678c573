"""The runbook executor: runs steps in order, safely, with a record that survives a crash.

No Textual: the CLI and the TUI drive it and inject how to ask for confirmation
(``confirm``) and how to settle a step whose outcome a crash left unknown (``decide``).

- Dry run plans every step without side effects (actions through their plugin's ``plan``).
- Read-only refuses every mutating step; the refusal is an event.
- A ``confirm`` step, a ``manual`` step and any mutating step in production need
  ``confirm`` to say yes; the request names the target and the environment.
- Every attempt writes a ``step.intent`` event *before* it runs and ``step.result`` after
  (output, exit code, duration); the event log redacts secrets.
- Undo reverses done steps, newest first; an undone step is pending again.
- Resume skips done steps (not undone ones); an ``unknown`` step re-runs only if idempotent, otherwise
  ``decide`` says whether it took effect (no answer refuses the resume).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.core.runbook import Runbook, Step, step_mutates
from console.core.runbook_params import Scope
from console.engine import stepkinds
from console.engine.events import utc_now
from console.engine.runs import UNDO_OFFSET, RunRecord, StepRecord
from console.engine.steprunner import (
    ConfirmRequest,
    StepRunner,
    plan_text,
    short_error,
    unexpected_error,
)
from console.errors import ActionError, BackendError, SecretError, UserError

__all__ = ["RESUMABLE", "ConfirmRequest", "Executor"]

RESUMABLE = frozenset({"interrupted", "failed", "refused", "cancelled"})


class Executor(StepRunner):
    """Runs runbooks against a fleet, recording runs, steps and events in ``store``.

    See :class:`~console.engine.steprunner.StepRunner` for the arguments.
    """

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

    def cancel(self) -> None:
        """Stop the run before its next step (the step in progress finishes)."""
        self._cancelled = True

    async def undo(self, runbook: Runbook, run_id: str, params: Mapping[str, Any]) -> RunRecord:
        """Run the ``undo`` of every done step, newest first (after a cancel, on request).

        A step whose undo succeeded is no longer done: resuming the run runs it again.
        """
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
            # undone: no longer done, so a resume runs it again
            rec.status = "pending"
            rec.output = f"{rec.output}\n[undone by {step.undo.id}]".strip()
            self._save(record, rec)
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
                    rec.output = plan_text(plan)
                    mutates = step_mutates(step, plan.mutates)
                elif step.kind == "check" and step.expect is not None:
                    health = await self._health(scope)
                    _, seen = await stepkinds.evaluate(step.expect, health, self.fleet, scope)
                    rec.output = f"{stepkinds.describe(step, scope)}; now {seen}"
                    mutates = False
                else:
                    rec.output = stepkinds.describe(step, scope)
                    mutates = step_mutates(step)
            except (
                ActionError,
                BackendError,
                SecretError,
                KeyError,
                LookupError,
                TimeoutError,
            ) as exc:
                rec.status, rec.output, status = (
                    "failed",
                    f"cannot plan: {short_error(exc)}",
                    "failed",
                )
                mutates = False
            except Exception as exc:  # a plugin's bug fails the dry run, never crashes it
                rec.status, rec.output, status = (
                    "failed",
                    f"cannot plan: {unexpected_error(exc)}",
                    "failed",
                )
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
