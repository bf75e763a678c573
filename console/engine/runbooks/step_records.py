"""The run recorder: the one writer of a run, each change written once.

Every change to a run — started, a step running, ending, refused, re-planned; claimed by
a resume, linked to an incident, ended — is one call here. The call updates the in-memory
:class:`~console.engine.runs.RunRecord` (the one source of the run's view: the executor,
the CLI's printer and the console's runner all read it), then writes the ``runs`` /
``steps`` row and the event saying so in ONE transaction: a crash keeps both or neither,
and nothing is read back to sync. ``on_update`` sees the record after each step change and
at the end. The reads a resume or an undo needs (what plans were shown, whether the
operator declined an incident) are here too, so the executor never touches the store.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from console.core import events as ev
from console.core.events import NewEvent
from console.core.redact import redact
from console.core.runbook import Step
from console.engine.incidents.link import declined, incident_for
from console.engine.runbooks.runs import RunRecord, RunStore, StepRecord
from console.engine.store.base import StoreLike as Store
from console.engine.store.events import EventLog, utc_now

__all__ = ["RunRecorder", "result_event"]


def result_event(
    step: Step, status: str, output: str, code: int | None, took: float | None
) -> NewEvent:
    """The ``step.result`` event: status, the output's tail, exit code, duration."""
    ms = None if took is None else round(took * 1000, 1)
    return ev.step_result(step.id, step.kind, status, output[-4000:], code, ms)


class RunRecorder:
    """Writes runs, their steps and their events to ``store``; see the module docstring.

    Args:
        on_update: called with the run after every step change and at its end (the CLI's
            printer, the console's live view).
    """

    def __init__(
        self,
        store: Store,
        *,
        on_update: Callable[[RunRecord], None] | None = None,
        identity: str | None = None,
    ) -> None:
        self.store = store
        self.runs = RunStore(store, identity=identity)
        self.log = EventLog(store)
        self.on_update = on_update
        #: The run being recorded now (None before the first one).
        self.current: RunRecord | None = None

    # -- reads ---------------------------------------------------------------------------

    def load(self, run_id: str) -> RunRecord | None:
        """A stored run (runs whose process is gone marked interrupted first)."""
        self.runs.reconcile()
        return self.runs.get(run_id)

    def declined(self, run_id: str) -> bool:
        """Whether the operator started the run with ``--no-incident``."""
        return declined(self.store, run_id)

    def incident_for(self, function_id: str) -> str | None:
        """The open or mitigated incident the function's runs belong to (see incident_link)."""
        return incident_for(self.store, function_id)

    def status_before_undo(self, run_id: str) -> str | None:
        """The run's status when it was first undone (a refused undo does not change it)."""
        rows = self.store.query(
            "SELECT data FROM events WHERE run_id = ? AND kind = 'run.undo' ORDER BY seq LIMIT 1",
            (run_id,),
        )
        try:
            was = json.loads(rows[0]["data"] or "{}").get("was") if rows else None
        except (ValueError, AttributeError):
            return None
        return was if isinstance(was, str) else None

    def shown_plans(self, run_id: str) -> dict[str, str]:
        """Step id → the plan the operator last confirmed, else the one first shown."""
        shown: dict[str, str] = {}
        confirmed: dict[str, str] = {}
        rows = self.store.query(
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

    # -- writes: each change once, its row and its event together --------------------------

    def start(self, record: RunRecord, started: NewEvent) -> RunRecord:
        """A new run (from :meth:`RunStore.new`) and its ``run.started`` event."""
        self.current = record
        self._write(record, [started], run="new")
        return record

    def claim(self, record: RunRecord, runbook: str) -> None:
        """A resume takes the run over (running, this process) and says so."""
        self.current = record
        record.status, record.ended = "running", None
        self._write(record, [ev.run_resumed(runbook)], run="claim")

    def follow(self, record: RunRecord) -> None:
        """An undo records into this run from now on (its status is set by :meth:`finish`)."""
        self.current = record

    def link(self, record: RunRecord, incident_id: str) -> None:
        """The run belongs to ``incident_id`` from now on (its events export with it)."""
        record.incident_id = incident_id
        self._write(record, [ev.run_linked(incident_id, record.runbook)], run="row")

    def note(self, record: RunRecord, event: NewEvent) -> None:
        """An event that changes no row (a confirmation, a re-plan, a cancel, a retry's
        failed attempt, an annotation's outcome)."""
        self._write(record, [event])

    def say(self, record: RunRecord, said: Iterable[NewEvent]) -> None:
        """Several such events, in one transaction."""
        self._write(record, said)

    def step(
        self,
        record: RunRecord,
        rec: StepRecord,
        said: Iterable[NewEvent] = (),
        *,
        notify: bool = True,
    ) -> None:
        """A step's row as ``rec`` has it, with the events that say what happened to it."""
        self._write(record, said, step=rec)
        if notify and self.on_update is not None:
            self.on_update(record)

    def end_step(
        self,
        record: RunRecord,
        step: Step,
        rec: StepRecord,
        status: str,
        output: str,
        code: int | None,
        took: float | None,
        said: Iterable[NewEvent] = (),
    ) -> str:
        """A step ends ``status`` (``step.result`` unless refused); returns the status."""
        rec.status, rec.output, rec.exit_code, rec.ended = status, redact(output), code, utc_now()
        rec.started = rec.started or rec.ended
        events = list(said)
        if status != "refused":
            events.append(result_event(step, status, output, code, took))
        self.step(record, rec, events)
        return status

    def refuse(self, record: RunRecord, step: Step, rec: StepRecord, why: str, detail: str) -> str:
        """A step is refused (read-only, or no confirmation): the event says why."""
        return self.end_step(
            record,
            step,
            rec,
            "refused",
            f"refused: {why}\n{detail}",
            None,
            None,
            [ev.step_refused(step.id, why, detail)],
        )

    def finish(self, record: RunRecord, status: str) -> RunRecord:
        """The run ends ``status``: its row and ``run.ended`` together."""
        record.status, record.ended = status, utc_now()
        self._write(record, [ev.run_ended(status)], run="row")
        if self.on_update is not None:
            self.on_update(record)
        return record

    def abandon(self, status: str) -> RunRecord | None:
        """Never leave the current run marked running: a run whose driver was cancelled
        (the screen went away) is ``cancelled``; one that failed or was interrupted is
        ``interrupted``, its running step ``unknown`` (it may have taken effect)."""
        record = self.current
        if record is None or record.status != "running":
            return record
        record.status = status
        if status == "cancelled":
            record.ended = utc_now()
        else:
            for rec in record.steps:
                rec.status = "unknown" if rec.status == "running" else rec.status
        with self.store.transaction() as conn:
            self.runs.write_run(conn, record)
            for rec in record.steps:
                if rec.status == "unknown":
                    self.runs.write_step(conn, record.id, rec)
        return record

    def _write(
        self,
        record: RunRecord,
        said: Iterable[NewEvent],
        *,
        run: str = "",
        step: StepRecord | None = None,
    ) -> None:
        events = [
            e.on(incident_id=record.incident_id, run_id=record.id, function_id=record.function_id)
            for e in said
        ]
        with self.store.transaction() as conn:
            if run == "new":
                self.runs.insert(conn, record)
            elif run:
                self.runs.write_run(conn, record, claim=run == "claim")
            if step is not None:
                self.runs.write_step(conn, record.id, step)
            if events:
                self.log.write(conn, events)
