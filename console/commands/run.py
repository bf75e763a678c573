"""``callboard run`` (run, dry-run or resume a runbook) and ``callboard runs`` (list runs).

Exit codes: 0 the run succeeded, 1 a step failed (or the run was cancelled/interrupted),
2 an invalid runbook or params, 3 refused (read-only, or a confirmation not given).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import click

from console.commands.jsonout import emit_json
from console.context import AppContext
from console.errors import UserError

EXIT = {"succeeded": 0, "failed": 1, "cancelled": 1, "interrupted": 1, "refused": 3}
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


def _confirmer(yes: bool) -> Any:
    from console.engine.executor import ConfirmRequest

    async def confirm(req: ConfirmRequest) -> bool:
        if yes:
            click.echo(
                f"confirmed by --yes: {req.step} on {req.target} in {req.environment}", err=True
            )
            return True
        if sys.stdin.isatty():
            return click.confirm(req.prompt(), default=False, err=True)
        click.echo(
            f"needs confirmation ({req.reason}): {req.step} on {req.target}; pass --yes", err=True
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
@click.option("--resume", "resume_id", metavar="RUN_ID", help="Resume an interrupted run.")
@click.option("--assume-done", is_flag=True, help="On resume: the unknown step took effect.")
@click.option("--assume-not-done", is_flag=True, help="On resume: it did not; run it again.")
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
    resume_id: str | None,
    assume_done: bool,
    assume_not_done: bool,
) -> int:
    """Run RUNBOOK (an id or a path) on --function; or --resume RUN_ID."""
    from console import paths
    from console.core.runbook_params import resolve_params
    from console.engine.executor import Executor
    from console.engine.runbook_catalog import find_runbook
    from console.engine.runs import RunStore

    if assume_done and assume_not_done:
        raise UserError("--assume-done and --assume-not-done contradict each other")
    dirs = paths.runbook_dirs(app.config.runbook_paths())
    runs = RunStore(app.store)
    if resume_id is not None:
        if runbook or function_id or params or dry_run:
            raise UserError("--resume takes only a run id (and --yes, --json, --assume-*)")
        record = runs.get(resume_id)
        if record is None:
            raise UserError(f"no run {resume_id!r} (see `callboard runs`)")
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
        confirm=_confirmer(yes),
        decide=_decider(assume),
        on_update=_printer(as_json),
    )

    async def go() -> Any:
        try:
            ids = frozenset(h.id for h in (await fleet.refresh()).functions)
            values = resolve_params(rb.params, given, ids)
            if resume_id is not None:
                return await executor.resume(rb, resume_id, values)
            return await executor.start(
                rb, str(function_id), values, dry_run=dry_run, incident_id=incident_id
            )
        finally:
            await executor.aclose()
            await fleet.aclose()

    try:
        record = asyncio.run(go())
    except KeyboardInterrupt:
        if executor.current_run is not None:
            runs.interrupt(executor.current_run)
            click.echo(
                f"interrupted: resume with `callboard run --resume {executor.current_run}`",
                err=True,
            )
        return 130
    if as_json:
        emit_json(record.to_json())
    else:
        mode = "dry run" if record.dry_run else "run"
        click.echo(
            f"{mode} {record.id} of {record.runbook} on {record.function_id}: {record.status}"
        )
        if (
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
    from console.engine.runs import RunStore

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
