"""How a run is recorded as it goes: step records, intent/result events, the run's end,
and the dashboards told about actions taken during an incident.

A mixin of :class:`console.engine.steprunner.StepRunner`: every write goes through here,
so what the store and the timeline say about a run is decided in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from console.core import events as ev
from console.core.redact import redact
from console.core.runbook import Step
from console.engine.events import EventLog, utc_now
from console.engine.runs import RunRecord, RunStore, StepRecord

if TYPE_CHECKING:
    from console.engine.fleet import Fleet


class RecordsRun:
    """Writes a run's steps and events; needs ``runs``, ``events``, ``fleet``, ``on_update``."""

    runs: RunStore
    events: EventLog
    fleet: Fleet
    read_only: bool
    on_update: Callable[[RunRecord], None] | None

    def _refuse(self, record: RunRecord, step: Step, rec: StepRecord, why: str, detail: str) -> str:
        self._event(record, ev.step_refused(step.id, why, detail))
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
        ms = None if took is None else round(took * 1000, 1)
        self._event(record, ev.step_result(step.id, step.kind, status, output[-4000:], code, ms))

    async def _annotate(self, record: RunRecord, step: Step, status: str, output: str) -> None:
        """An action taken during an incident goes to the dashboards too (best effort)."""
        from console.engine.annotations import REFUSED, annotate

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
            self._event(record, ev.annotation_refused(sorted(refused), REFUSED, step=step.id))
        if failed:
            self._event(record, ev.annotation_failed(step.id, failed))

    def _finish(self, record: RunRecord, status: str) -> RunRecord:
        record.status = status
        self.runs.set_status(record.id, status)
        self._event(record, ev.run_ended(status))
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

    def _event(self, record: RunRecord, event: ev.NewEvent) -> None:
        ids = {"incident_id": record.incident_id, "function_id": record.function_id}
        self.events.append(event.on(run_id=record.id, **ids))
