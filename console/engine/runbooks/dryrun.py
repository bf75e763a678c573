"""A dry run: every step planned, nothing changed (actions through their plugin's ``plan``).

Each step says what it would do, whether read-only would refuse it and whether it would
ask for confirmation; a ``check`` reads its function's signals now, and so does a ``verify``
(once, without waiting: whether it would already hold — against a replay, the replayed
moment). A verify that cannot be read now (no PromQL backend) still plans.
"""

from __future__ import annotations

from console.core.runbook import Runbook, Step, step_mutates
from console.core.runbook_params import Scope
from console.engine.runbooks import stepkinds
from console.engine.runbooks.runs import RunRecord
from console.engine.runbooks.steprunner import (
    WRITES_ELSEWHERE,
    StepRunner,
    plan_text,
    short_error,
    unexpected_error,
)
from console.engine.store.events import utc_now
from console.errors import ActionError, BackendError, SecretError


async def _now(steps: StepRunner, step: Step, scope: Scope) -> str:
    """What a verify sees now, or why it cannot be read (it does not fail the dry run)."""
    assert step.expect is not None
    try:
        health = await steps.health(scope)
        _, seen = await stepkinds.evaluate(step.expect, health, steps.fleet, scope)
    except (BackendError, LookupError, TimeoutError, ValueError, KeyError) as exc:
        return f"now unknown: {short_error(exc)}"
    return f"now {seen}"


async def dry_run(
    steps: StepRunner, runbook: Runbook, record: RunRecord, scope: Scope
) -> RunRecord:
    """Plan every step of ``record`` (a dry run just started) and finish it."""
    status = "succeeded"
    for step, rec in zip(runbook.steps, record.steps, strict=False):
        rec.status, rec.started = "planned", utc_now()
        notes = []
        try:
            if step.kind == "action":
                plan = await steps.plan(step, scope, record)
                rec.output = plan_text(plan)
                mutates = step_mutates(step, plan.mutates)
            elif step.kind == "check" and step.expect is not None:
                health = await steps.health(scope)
                _, seen = await stepkinds.evaluate(step.expect, health, steps.fleet, scope)
                rec.output = f"{stepkinds.describe(step, scope)}; now {seen}"
                mutates = False
            elif step.kind == "verify" and step.expect is not None:
                rec.output = f"{stepkinds.describe(step, scope)}; {await _now(steps, step, scope)}"
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
        if steps.read_only and (mutates or step.action in WRITES_ELSEWHERE):
            notes.append("read-only: this step would be refused")
        elif step.confirm or step.kind == "manual" or (mutates and steps.fleet.production):
            notes.append("needs confirmation")
        rec.output = "\n".join([rec.output, *notes]).strip()
        rec.ended = utc_now()
        steps.recorder.step(record, rec)
    return steps.recorder.finish(record, status)
