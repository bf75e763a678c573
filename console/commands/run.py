"""``callboard run`` (run, dry-run, resume or undo a runbook) and ``callboard runs``.

Exit codes: 0 the run succeeded (or was undone), 1 a step failed (or the run was
cancelled/interrupted, or another run holds the function's lease), 2 an invalid runbook or params, 3 refused (read-only, a
confirmation not given, or a resumed plan that changed and was not accepted).
Ctrl-C (SIGINT) cancels the run: it stops within a second, recorded as cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path
from typing import Any

import click

from console.commands.jsonout import emit_json
from console.context import AppContext
from console.core.timeline import GUARD_FAILED
from console.errors import UserError

EXIT = {"succeeded": 0, "undone": 0, "failed": 1, "cancelled": 1, "interrupted": 1, "refused": 3}
_MARK = {"done": "✓", "planned": "·", "failed": "✗", "refused": "⊘", "unknown": "?", "skipped": "-"}


def parse_params(items: tuple[str, ...]) -> dict[str, str]:
    """``("k=v", ...)`` as a dict. Raises UserError for an item without ``=``."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--param expects KEY=VALUE, got {item!r}")
        out[key.strip()] = value
    return out


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())


def _confirmer(yes: bool, accepted: tuple[str, ...] = (), again: str = "") -> Any:
    """Answers the executor's confirmations: ``--yes`` confirms an unchanged plan only; a
    plan that changed since it was first shown needs ``--accept-plan`` with its digest."""
    from console.engine.runbooks.executor import ConfirmRequest

    async def confirm(req: ConfirmRequest) -> bool:
        what = f"{req.step} on {req.target} in {req.environment}"
        if req.changed:
            if req.fingerprint in accepted:
                click.echo(f"confirmed by --accept-plan {req.fingerprint}: {what}", err=True)
                click.echo(_indent(req.detail), err=True)
                return True
            if sys.stdin.isatty():  # at a terminal the operator sees both plans and answers
                return click.confirm(req.prompt(), default=False, err=True)
            click.echo(
                f"the plan changed since it was first shown: {what}\n  was:\n"
                f"{_indent(req.previous)}\n  now:\n{_indent(req.detail)}\n"
                f"--yes confirms only an unchanged plan; to confirm this one run\n"
                f"  {again} --yes --accept-plan {req.fingerprint}",
                err=True,
            )
            return False
        if yes:
            click.echo(f"confirmed by --yes: {what}", err=True)
            click.echo(_indent(req.detail), err=True)
            return True
        if sys.stdin.isatty():
            return click.confirm(req.prompt(), default=False, err=True)
        click.echo(
            f"needs confirmation ({req.reason}): {req.step} on {req.target}; pass --yes\n"
            f"{_indent(req.detail)}",
            err=True,
        )
        return False

    return confirm


def _decider(assume: bool | None) -> Any:
    async def decide(step: Any, rec: Any) -> bool | None:
        if assume is not None:
            return assume
        if sys.stdin.isatty():
            return click.confirm(
                f"step {step.id} ({step.kind}) started before the crash and is not idempotent.\n"
                "Did it take effect?",
                default=False,
                err=True,
            )
        click.echo(
            f"step {step.id}: outcome unknown; pass --assume-done or --assume-not-done", err=True
        )
        return None

    return decide


def _printer(as_json: bool) -> Any:
    shown: set[tuple[int, str]] = set()

    def show(record: Any) -> None:
        if as_json:
            return
        for s in record.steps:
            if s.status in ("pending", "running") or (s.idx, s.status) in shown:
                continue
            shown.add((s.idx, s.status))
            click.echo(f"{_MARK.get(s.status, ' ')} {s.id} [{s.kind}] {s.status}")
            for line in s.output.splitlines()[-20:]:
                click.echo(f"    {line}")

    return show


@click.command("run")
@click.argument("runbook", required=False)
@click.option("--function", "function_id", metavar="ID", help="The function to run it on.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="A runbook param.")
@click.option("--dry-run", is_flag=True, help="Plan every step; change nothing.")
@click.option("--yes", is_flag=True, help="Confirm steps that ask (each is named on stderr).")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
@click.option("--incident", "incident_id", metavar="ID", help="Record the run in this incident.")
@click.option(
    "--no-incident",
    is_flag=True,
    help="Do not join the function's open incident (a run joins it by default).",
)
@click.option("--resume", "resume_id", metavar="RUN_ID", help="Resume an interrupted run.")
@click.option("--undo", "undo_id", metavar="RUN_ID", help="Undo the done steps of a run.")
@click.option(
    "--accept-plan",
    "accepted",
    multiple=True,
    metavar="DIGEST",
    help="On resume: confirm a changed plan (its digest is printed when it is refused).",
)
@click.option("--assume-done", is_flag=True, help="On resume: the unknown step took effect.")
@click.option("--assume-not-done", is_flag=True, help="On resume: it did not; run it again.")
@click.option(
    "--take-over",
    is_flag=True,
    help="Take the function's lease from a run whose holder stopped heartbeating (stale).",
)
@click.pass_obj
def run(
    app: AppContext,
    runbook: str | None,
    function_id: str | None,
    params: tuple[str, ...],
    dry_run: bool,
    yes: bool,
    as_json: bool,
    incident_id: str | None,
    no_incident: bool,
    resume_id: str | None,
    undo_id: str | None,
    accepted: tuple[str, ...],
    assume_done: bool,
    assume_not_done: bool,
    take_over: bool,
) -> int:
    """Run RUNBOOK (an id or a path) on --function; or --resume RUN_ID; or --undo RUN_ID."""
    from console import paths
    from console.core.runbook_params import resolve_params
    from console.engine.runbooks.catalog import find_runbook
    from console.engine.runbooks.executor import Executor
    from console.engine.runbooks.runs import RunStore

    if assume_done and assume_not_done:
        raise UserError("--assume-done and --assume-not-done contradict each other")
    if incident_id is not None and no_incident:
        raise UserError("--incident and --no-incident contradict each other")
    if resume_id is not None and undo_id is not None:
        raise UserError("--resume and --undo contradict each other: pick one run to act on")
    dirs = paths.runbook_dirs(app.config.runbook_paths())
    runs = RunStore(app.store)
    again_id = resume_id or undo_id
    if again_id is not None:
        flag = "--resume" if resume_id is not None else "--undo"
        if runbook or function_id or params or dry_run or incident_id:
            raise UserError(f"{flag} takes only a run id (and --yes, --json, --assume-*)")
        record = runs.get(again_id)
        if record is None:
            raise UserError(f"no run {again_id!r} (see `callboard runs`)")
        path = Path(record.runbook_path)
        rb = find_runbook(str(path) if path.is_file() else record.runbook, dirs)
        given: dict[str, object] = dict(record.params)
    else:
        if not runbook or not function_id:
            raise UserError(
                "usage: callboard run RUNBOOK --function ID [--param k=v]... (or --resume RUN_ID)"
            )
        rb = find_runbook(runbook, dirs)
        given = dict(parse_params(params))
        if incident_id is not None and not app.store.query(
            "SELECT 1 FROM incidents WHERE id = ?", (incident_id,)
        ):
            raise UserError(f"no incident {incident_id!r} (see `callboard incident list`)")
    assume = True if assume_done else False if assume_not_done else None
    fleet = app.fleet()
    executor = Executor(
        fleet,
        app.store,
        secret=app.secrets.get,
        confirm=_confirmer(
            yes, accepted, f"callboard run --resume {resume_id}" if resume_id else "callboard run"
        ),
        decide=_decider(assume),
        on_update=_printer(as_json),
    )

    async def go() -> Any:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            # Ctrl-C cancels: a verify's wait stops at once, the run is recorded cancelled
            loop.add_signal_handler(signal.SIGINT, _cancel)
        try:
            ids = frozenset(h.id for h in (await fleet.refresh()).functions)
            values = resolve_params(rb.params, given, ids)
            if resume_id is not None:
                return await executor.resume(rb, resume_id, values, take_over=take_over)
            if undo_id is not None:
                return await executor.undo(rb, undo_id, values, take_over=take_over)
            return await executor.start(
                rb,
                str(function_id),
                values,
                dry_run=dry_run,
                incident_id=incident_id,
                no_incident=no_incident,
                take_over=take_over,
            )
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signal.SIGINT)
            await executor.aclose()
            await fleet.aclose()

    def _cancel() -> None:
        click.echo("cancelling: the run stops within a second", err=True)
        executor.cancel()

    from console.engine.runbooks.leases import LeaseHeld

    try:
        record = asyncio.run(go())
    except LeaseHeld as exc:  # another responder's run holds the function: nothing was done
        click.echo(f"refused: {exc}", err=True)
        return 1
    except KeyboardInterrupt:
        stopped = executor.interrupted()  # never left marked running
        if stopped is not None:
            click.echo(f"interrupted: resume with `callboard run --resume {stopped.id}`", err=True)
        return 130
    if as_json:
        emit_json(record.to_json())
    else:
        mode = "dry run" if record.dry_run else "run"
        click.echo(
            f"{mode} {record.id} of {record.runbook} on {record.function_id}: {record.status}"
        )
        guard_gone = any(s.output.startswith(GUARD_FAILED) for s in record.steps)
        if guard_gone and not record.dry_run:
            # resuming would only fail the guard again: the failure it answered is gone
            click.echo(
                "the guard no longer holds: the run stopped there (resuming would only check "
                "it again); start a new run if the failure comes back",
                err=True,
            )
        elif (
            record.status in ("interrupted", "refused", "failed", "cancelled")
            and not record.dry_run
        ):
            click.echo(f"resume with `callboard run --resume {record.id}`", err=True)
    return EXIT.get(record.status, 1)


@click.command("runs")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@click.pass_obj
def runs_cmd(app: AppContext, as_json: bool, limit: int) -> int:
    """List recent runbook runs (interrupted ones are detected and marked)."""
    from console.engine.runbooks.runs import RunStore

    records = RunStore(app.store).recent(limit)
    if as_json:
        emit_json([r.to_json() for r in records])
        return 0
    if not records:
        click.echo("no runs yet")
    for r in records:
        done, total = r.progress
        dry = " (dry run)" if r.dry_run else ""
        click.echo(
            f"{r.id}  {r.started}  {r.status:<11} {r.runbook} on {r.function_id}  "
            f"{done}/{total} steps done{dry}"
        )
    return 0


COMMANDS = [run, runs_cmd]
