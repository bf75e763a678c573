"""The runbook executor: runs steps in order, safely, with a record that survives a crash.

No Textual: the CLI and the TUI drive it and inject how to ask for confirmation
(``confirm``) and how to settle a step whose outcome a crash left unknown (``decide``).

- Dry run plans every step without side effects (actions through their plugin's ``plan``).
- Read-only refuses every mutating step; the refusal is an event.
- A ``confirm`` step, a ``manual`` step and any mutating step in production need
  ``confirm`` to say yes; the request names the target and the environment.
- Every attempt writes a ``step.intent`` event *before* it runs and ``step.result`` after
  (output, exit code, duration); the event log redacts secrets.
- Undo reverses done steps, newest first, each planned and confirmed like the step it
  undoes; an undone step is pending again. A succeeded run can be undone too.
- Resume re-establishes the facts: every ``check`` runs again (a failing one stops the run:
  "guard no longer holds"), every remaining step is planned again and a plan that differs
  from the one first shown must be confirmed anew. Done actions are not repeated; an
  ``unknown`` step re-runs only if idempotent, otherwise ``decide`` says whether it took
  effect (no answer refuses the resume).
- A run on a function with an open or mitigated incident belongs to it
  (:mod:`console.engine.incident_link`) unless started with ``no_incident``.
- Cancel stops before the next step and at once inside a verify's wait or a backoff.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from console.core import events as ev
from console.core.runbook import Runbook, Step, step_mutates
from console.core.runbook_params import Duration, Scope
from console.engine import stepkinds
from console.engine.events import utc_now
from console.engine.incident_link import declined, incident_for, link_run
from console.engine.runs import UNDO_OFFSET, RunRecord, StepRecord
from console.engine.steprunner import (
    WRITES_ELSEWHERE,
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
        no_incident: bool = False,
    ) -> RunRecord:
        """Run (or dry-run) ``runbook`` on ``function_id`` with validated ``params``.

        Without ``incident_id``, a real run joins the function's open or mitigated
        incident (now, or as soon as one is opened while it runs) unless ``no_incident``.

        Raises:
            UserError: the function is not in the fleet.
        """
        fn = await self._function(function_id)
        # a duration is recorded as one ("20m"), and a resume parses it back the same way
        recorded = {k: str(v) if isinstance(v, Duration) else v for k, v in params.items()}
        record = self.runs.create(
            runbook.id,
            runbook.path,
            function_id,
            recorded,
            [(s.id, s.kind) for s in runbook.steps],
            dry_run=dry_run,
            incident_id=incident_id,
            environment=self.fleet.environment,
        )
        self.current_run = record.id
        self._event(record, ev.run_started(
            runbook.id, recorded, dry_run=dry_run, environment=self.fleet.environment,
            production=self.fleet.production, read_only=self.read_only, no_incident=no_incident,
        ))  # fmt: skip
        self._no_link = no_incident
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
        self._no_link = declined(self.runs.store, run_id)
        self._link(record)
        self._event(record, ev.run_resumed(runbook.id))
        self._baselines = self._shown_plans(run_id)
        self._rechecking = True
        for step, rec in zip(runbook.steps, record.steps, strict=False):
            if rec.status in ("unknown", "running"):
                if not await self._settle(record, step, rec):
                    return self._finish(record, "refused")
            elif rec.status != "done" or step.kind == "check":
                rec.status = "pending"  # a check never mutates: it runs again, on today's facts
                self.runs.save_step(record.id, rec)
        try:
            return await self._drive(runbook, record, Scope(params, fn, self.secret, record.id))
        finally:
            self._rechecking, self._baselines = False, {}

    def cancel(self) -> None:
        """Stop the run: before its next step, or at once inside a verify's wait, a retry's
        backoff or a command (stopped; its outcome unknown). A plugin action finishes."""
        self._cancelled = True
        self._cancel_event.set()

    async def undo(self, runbook: Runbook, run_id: str, params: Mapping[str, Any]) -> RunRecord:
        """Run the ``undo`` of every done step, newest first (after a cancel, on request).

        A step whose undo succeeded is no longer done: resuming the run runs it again.
        """
        self.runs.reconcile()
        record = self.runs.get(run_id)
        if record is None:
            raise UserError(f"no run {run_id!r} (see `callboard runs`)")
        if record.dry_run:
            raise UserError(f"run {run_id} was a dry run: it changed nothing to undo")
        if record.status == "running":
            raise UserError(f"run {run_id} is still running (pid {record.pid}): cancel it first")
        todo = [
            (step, rec)
            for step, rec in zip(runbook.steps, record.steps, strict=False)
            if rec.status == "done" and step.undo is not None
        ]
        if not todo:
            raise UserError(f"run {run_id}: no done step has an undo")
        fn = await self._function(record.function_id)
        scope = Scope(params, fn, self.secret, record.id)
        self._cancelled = False
        self._cancel_event.clear()
        self.current_run = run_id
        self._no_link = declined(self.runs.store, run_id)
        self._link(record)
        was = self._status_before_undo(run_id) or record.status
        self._event(record, ev.run_undo(runbook.id, was))
        # a finished run whose every undo ran is undone; a stopped one stays resumable
        final = "undone" if was in ("succeeded", "undone") else was
        for step, rec in reversed(todo):
            assert step.undo is not None
            if self._cancelled:
                self._event(record, ev.run_cancelled(before=step.undo.id))
                final = "cancelled"
                break
            # the undo is asked like the step it reverses (a confirm step's undo asks too)
            undo = replace(step.undo, confirm=step.undo.confirm or step.confirm)
            undo_rec = StepRecord(UNDO_OFFSET + rec.idx, undo.id, undo.kind)
            record.steps.append(undo_rec)
            result = await self._step(record, undo, undo_rec, scope)
            if result in ("cancelled", "unknown"):
                self._event(record, ev.run_cancelled(in_step=undo.id))
                result = "cancelled"
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
                self._event(record, ev.run_cancelled(before=step.id))
                return self._finish(record, "cancelled")
            self._link(record)  # an incident opened while the run goes takes it from here
            result = await self._step(record, step, rec, scope)
            if result in ("cancelled", "unknown"):  # unknown: a command stopped part-way
                self._event(record, ev.run_cancelled(in_step=step.id))
                return self._finish(record, "cancelled")
            if result != "done":
                return self._finish(record, result)
        return self._finish(record, "succeeded")

    def _link(self, record: RunRecord) -> None:
        """Join the function's open or mitigated incident (the one rule; see incident_link)."""
        if record.incident_id is not None or record.dry_run or self._no_link:
            return
        found = incident_for(self.runs.store, record.function_id)
        if found is None:
            return
        link_run(self.runs.store, record.id, found)
        record.incident_id = found
        self._event(record, ev.run_linked(found, record.runbook))

    def _status_before_undo(self, run_id: str) -> str | None:
        """The run's status when it was first undone (a refused undo does not change it)."""
        rows = self.runs.store.query(
            "SELECT data FROM events WHERE run_id = ? AND kind = 'run.undo' ORDER BY seq LIMIT 1",
            (run_id,),
        )
        try:
            was = json.loads(rows[0]["data"] or "{}").get("was") if rows else None
        except (ValueError, AttributeError):
            return None
        return was if isinstance(was, str) else None

    def _shown_plans(self, run_id: str) -> dict[str, str]:
        """Step id → the plan the operator last confirmed, else the one first shown."""
        shown: dict[str, str] = {}
        confirmed: dict[str, str] = {}
        rows = self.runs.store.query(
            "SELECT kind, data FROM events WHERE run_id = ? AND kind IN"
            " ('step.refused', 'step.confirmed', 'step.intent') ORDER BY seq",
            (run_id,),
        )
        for row in rows:
            try:
                data = json.loads(row["data"] or "{}")
            except ValueError:
                continue
            step, what = data.get("step"), data.get("what")
            if not isinstance(step, str) or not isinstance(what, str) or not what:
                continue
            shown.setdefault(step, what)
            if row["kind"] != "step.refused":
                confirmed[step] = what
        return {**shown, **confirmed}

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
            if self.read_only and (mutates or step.action in WRITES_ELSEWHERE):
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
        self._event(record, ev.step_outcome(step.id, why))
        if decision is None:
            self._event(record, ev.step_refused(step.id, why))
            return False
        rec.status = "done" if decision else "pending"
        rec.output = f"{rec.output}\n[{why}]".strip()
        self._save(record, rec)
        return True
