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
  (:mod:`console.engine.incidents.link`) unless started with ``no_incident``.
- Cancel stops before the next step and at once inside a verify's wait or a backoff.
- A run it cannot finish — its task cancelled (a screen closed), an error, Ctrl-C — is
  recorded ``cancelled`` or ``interrupted`` by the executor itself, never left running.
- A real run, a resume and an undo hold the function's lease (:mod:`.leases`) from before
  their first step to their end; another run holding it refuses them (``LeaseHeld``)
  before anything is recorded of them. Dry runs take no lease.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from console.core import events as ev
from console.core.runbook import Runbook, Step
from console.core.runbook_params import Duration, Scope
from console.engine.runbooks import dryrun
from console.engine.runbooks.confirmation import Confirm, Decide
from console.engine.runbooks.leases import Leases
from console.engine.runbooks.runs import UNDO_OFFSET, RunRecord, StepRecord
from console.engine.runbooks.step_records import RunRecorder
from console.engine.runbooks.steprunner import ConfirmRequest, StepRunner
from console.errors import UserError

if TYPE_CHECKING:
    import httpx

    from console.engine.fleet.refresh import Fleet
    from console.engine.store.base import StoreLike as Store

__all__ = ["RESUMABLE", "ConfirmRequest", "Executor"]

RESUMABLE = frozenset({"interrupted", "failed", "refused", "cancelled"})


async def _never(_: Any, *__: Any) -> Any:
    return None


class Executor:
    """Runs runbooks against a fleet, recording runs, steps and events in ``store``.

    It owns a :class:`~console.engine.step_records.RunRecorder` (the one writer of a run)
    and a :class:`~console.engine.steprunner.StepRunner` (one step at a time), and the
    cleanup of a run it cannot finish: whatever stops it — a cancelled task, an error —
    the run is never left marked running.

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
        leases: Leases | None = None,
    ) -> None:
        self.fleet = fleet
        #: The store's leases (tests inject one on a fake clock).
        self.leases = leases or Leases(store)
        self.recorder = RunRecorder(store, on_update=on_update)
        self.steps = StepRunner(
            fleet,
            self.recorder,
            secret=secret,
            confirm=confirm,
            read_only=read_only,
            poll_every=poll_every,
            sleep=sleep,
            rand=rand,
            http=http,
        )
        self.secret = secret
        self.decide: Decide = decide or _never
        self.read_only = self.steps.read_only
        #: The operator declined linking this run to an incident (``--no-incident``).
        self._no_link = False

    @property
    def on_update(self) -> Callable[[RunRecord], None] | None:
        """Called with the run after every recorded change (settable while it runs)."""
        return self.recorder.on_update

    @on_update.setter
    def on_update(self, listener: Callable[[RunRecord], None] | None) -> None:
        self.recorder.on_update = listener

    @property
    def current(self) -> RunRecord | None:
        """The run this executor is driving (or last drove), as recorded."""
        return self.recorder.current

    @property
    def current_run(self) -> str | None:
        """The id of :attr:`current` (None before the first run)."""
        return None if self.recorder.current is None else self.recorder.current.id

    async def aclose(self) -> None:
        """Close the HTTP client this executor created (an injected one is left open)."""
        await self.steps.aclose()

    def interrupted(self) -> RunRecord | None:
        """The process is going away (Ctrl-C outside the loop): the current run, if still
        running, is interrupted, its running step unknown; a resume settles it."""
        return self.recorder.abandon("interrupted")

    @contextmanager
    def _never_left_running(self) -> Iterator[None]:
        try:
            yield
        except asyncio.CancelledError:  # the driver went away (a screen closed): cancelled
            self.recorder.abandon("cancelled")
            raise
        except BaseException:  # an error, or Ctrl-C: a resume settles the running step
            self.recorder.abandon("interrupted")
            raise

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
        take_over: bool = False,
    ) -> RunRecord:
        """Run (or dry-run) ``runbook`` on ``function_id`` with validated ``params``.

        Without ``incident_id``, a real run joins the function's open or mitigated
        incident (now, or as soon as one is opened while it runs) unless ``no_incident``.
        ``take_over``: take the function's lease even from another run, once it is stale.

        Raises:
            UserError: the function is not in the fleet.
            LeaseHeld: another run holds the function (nothing of this run is recorded).
        """
        fn = await self.steps.function(function_id)
        # a duration is recorded as one ("20m"), and a resume parses it back the same way
        recorded = {k: str(v) if isinstance(v, Duration) else v for k, v in params.items()}
        record = self.recorder.runs.new(
            runbook.id,
            runbook.path,
            function_id,
            recorded,
            [(s.id, s.kind) for s in runbook.steps],
            dry_run=dry_run,
            incident_id=incident_id,
            environment=self.fleet.environment,
        )
        started = ev.run_started(
            runbook.id, recorded, dry_run=dry_run, environment=self.fleet.environment,
            production=self.fleet.production, read_only=self.read_only, no_incident=no_incident,
        )  # fmt: skip
        scope = Scope(params, fn, self.secret, record.id)
        if dry_run:  # never blocked, never blocking: no lease
            self.recorder.start(record, started)
            with self._never_left_running():
                return await dryrun.dry_run(self.steps, runbook, record, scope)
        self._no_link = no_incident
        async with self._holding(record, runbook.id, take_over):
            self.recorder.start(record, started)
            with self._never_left_running():
                return await self._drive(runbook, record, scope)

    async def resume(
        self,
        runbook: Runbook,
        run_id: str,
        params: Mapping[str, Any],
        *,
        take_over: bool = False,
    ) -> RunRecord:
        """Carry on an interrupted (or failed, refused, cancelled) run where it stopped.

        The function's lease is taken first (the run's own lease, left by a crash, is taken
        back; another run's is refused unless stale and ``take_over``).

        Raises:
            UserError: no such run, a dry run, one still running, or the runbook changed.
            LeaseHeld: another run holds the function.
        """
        record = self.recorder.load(run_id)
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
        fn = await self.steps.function(record.function_id)
        self._no_link = self.recorder.declined(run_id)
        async with self._holding(record, runbook.id, take_over):
            return await self._resume(runbook, record, fn, params)

    async def _resume(
        self, runbook: Runbook, record: RunRecord, fn: Any, params: Mapping[str, Any]
    ) -> RunRecord:
        run_id = record.id
        self._link(record)
        self.recorder.claim(record, runbook.id)
        self.steps.baselines = self.recorder.shown_plans(run_id)
        self.steps.rechecking = True
        try:
            with self._never_left_running():
                for step, rec in zip(runbook.steps, record.steps, strict=False):
                    if rec.status in ("unknown", "running"):
                        if not await self._settle(record, step, rec):
                            return self.recorder.finish(record, "refused")
                    elif rec.status != "done" or step.kind == "check":
                        rec.status = "pending"  # a check never mutates: it runs again, today
                        self.recorder.step(record, rec, notify=False)
                scope = Scope(params, fn, self.secret, record.id)
                return await self._drive(runbook, record, scope)
        finally:
            self.steps.rechecking, self.steps.baselines = False, {}

    def cancel(self) -> None:
        """Stop the run: before its next step, or at once inside a verify's wait, a retry's
        backoff or a command (stopped; its outcome unknown). A plugin action finishes."""
        self.steps.cancel()

    async def undo(
        self,
        runbook: Runbook,
        run_id: str,
        params: Mapping[str, Any],
        *,
        take_over: bool = False,
    ) -> RunRecord:
        """Run the ``undo`` of every done step, newest first (after a cancel, on request).

        A step whose undo succeeded is no longer done: resuming the run runs it again. An
        undo mutates: it holds the function's lease as a run does.
        """
        record = self.recorder.load(run_id)
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
        fn = await self.steps.function(record.function_id)
        self._no_link = self.recorder.declined(run_id)
        async with self._holding(record, runbook.id, take_over):
            return await self._undo(runbook, record, fn, params, todo)

    async def _undo(
        self,
        runbook: Runbook,
        record: RunRecord,
        fn: Any,
        params: Mapping[str, Any],
        todo: list[tuple[Step, StepRecord]],
    ) -> RunRecord:
        run_id = record.id
        scope = Scope(params, fn, self.secret, record.id)
        self.steps.uncancel()
        self.recorder.follow(record)
        self._link(record)
        was = self.recorder.status_before_undo(run_id) or record.status
        self.recorder.note(record, ev.run_undo(runbook.id, was))
        # a finished run whose every undo ran is undone; a stopped one stays resumable
        final = "undone" if was in ("succeeded", "undone") else was
        with self._never_left_running():
            for step, rec in reversed(todo):
                assert step.undo is not None
                if self.steps.cancelled:
                    self.recorder.note(record, ev.run_cancelled(before=step.undo.id))
                    final = "cancelled"
                    break
                # the undo is asked like the step it reverses (a confirm step's undo asks too)
                undo = replace(step.undo, confirm=step.undo.confirm or step.confirm)
                undo_rec = _undo_record(record, UNDO_OFFSET + rec.idx, undo)
                result = await self.steps.run(record, undo, undo_rec, scope)
                if result in ("cancelled", "unknown"):
                    self.recorder.note(record, ev.run_cancelled(in_step=undo.id))
                    result = "cancelled"
                if result != "done":
                    final = result
                    break
                # undone: no longer done, so a resume runs it again
                rec.status = "pending"
                rec.output = f"{rec.output}\n[undone by {step.undo.id}]".strip()
                self.recorder.step(record, rec)
            return self.recorder.finish(record, final)

    # -- driving -------------------------------------------------------------------------

    def _holding(
        self, record: RunRecord, runbook: str, take_over: bool
    ) -> AbstractAsyncContextManager[Any]:
        """The function's lease held for ``record`` while a run, resume or undo goes (its
        incident: the run's, else the function's unless the run declined one: ``_no_link``)."""
        incident = record.incident_id
        if incident is None and not self._no_link:
            incident = self.recorder.incident_for(record.function_id)

        def lost(taker: str) -> None:  # taken over while we ran: stop before the next step
            self.cancel()

        return self.leases.holding(
            record.function_id,
            record.id,
            runbook,
            incident_id=incident,
            take_over=take_over,
            status=lambda: record.status,
            on_lost=lost,
            incident_at_end=lambda: record.incident_id,
        )

    async def _drive(self, runbook: Runbook, record: RunRecord, scope: Scope) -> RunRecord:
        for step, rec in zip(runbook.steps, record.steps, strict=False):
            if rec.status == "done":
                continue
            if self.steps.cancelled:
                self.recorder.note(record, ev.run_cancelled(before=step.id))
                return self.recorder.finish(record, "cancelled")
            self._link(record)  # an incident opened while the run goes takes it from here
            result = await self.steps.run(record, step, rec, scope)
            self._link(record)  # ... also one opened by the step's own confirmation
            if result in ("cancelled", "unknown"):  # unknown: a command stopped part-way
                self.recorder.note(record, ev.run_cancelled(in_step=step.id))
                return self.recorder.finish(record, "cancelled")
            if result != "done":
                return self.recorder.finish(record, result)
        return self.recorder.finish(record, "succeeded")

    def _link(self, record: RunRecord) -> None:
        """Join the function's open or mitigated incident (the one rule; see incident_link)."""
        if record.incident_id is not None or record.dry_run or self._no_link:
            return
        found = self.recorder.incident_for(record.function_id)
        if found is not None:
            self.recorder.link(record, found)

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
        outcome = ev.step_outcome(step.id, why)
        if decision is None:
            refused = ev.step_refused(step.id, why)
            self.recorder.say(record, [outcome, refused])
            return False
        rec.status = "done" if decision else "pending"
        rec.output = f"{rec.output}\n[{why}]".strip()
        self.recorder.step(record, rec, [outcome])
        return True


def _undo_record(record: RunRecord, idx: int, undo: Step) -> StepRecord:
    """A fresh record for an undo step, in index order; it replaces one a refused or
    stopped undo left (one row per index, as stored)."""
    rec = StepRecord(idx, undo.id, undo.kind)
    record.steps[:] = [s for s in record.steps if s.idx != idx]
    record.steps.append(rec)
    record.steps.sort(key=lambda s: s.idx)
    return rec
