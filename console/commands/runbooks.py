"""``callboard runbooks test``: every runbook tried for real on a fresh demo fleet.

Exit codes: 0 every runbook works, 1 at least one no longer does (each named, one line,
with the check that failed), 2 a runbook file that does not parse (every problem at
``file:line``) or a bad ``--param``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import click

from console.commands.jsonout import emit_json
from console.context import AppContext
from console.errors import ConfigError, ConfigErrors, UserError

_MARK = {True: "ok", False: "FAIL", None: "—"}


@click.group("runbooks")
def runbooks() -> None:
    """The runbook catalog: shipped, your own and the config's folders."""


def _collect(app: AppContext, targets: tuple[str, ...]) -> list[Any]:
    """The runbooks to test: ``targets`` (files or folders), else the whole catalog (a
    later folder's runbook replacing a shipped one with the same id).

    Raises:
        ConfigErrors: a file that does not parse (every problem, located), a missing path.
    """
    from console import paths
    from console.engine.runbooks.catalog import Entry, load_catalog, parse_file

    errors: list[ConfigError] = []
    if targets:
        dirs: list[Path] = []
        files: list[Path] = []
        for t in targets:
            p = Path(t).expanduser()
            if p.is_dir():
                dirs.append(p)
            elif p.is_file():
                files.append(p)
            else:
                errors.append(ConfigError("no such runbook file or folder", t))
        entries = load_catalog(dirs)
        for f in files:
            runbook, problems = parse_file(f)
            entries.append(Entry(f, runbook, problems))
    else:
        extra = app.config.runbook_paths()
        for folder in extra:
            if not folder.is_dir():
                errors.append(
                    ConfigError(f"runbooks: folder {folder} does not exist", app.config.source)
                )
        entries = load_catalog(paths.runbook_dirs(extra), paths.shipped_runbooks_dir())
    effective: dict[str, Any] = {}
    for entry in entries:
        errors += entry.errors
        if entry.runbook is not None:
            effective[entry.runbook.id] = entry.runbook
    if errors:
        raise ConfigErrors(errors)
    return list(effective.values())


def _given(items: tuple[str, ...], runbooks: list[Any]) -> dict[str, dict[str, str]]:
    """``--param NAME=V`` (every runbook declaring NAME) or ``--param ID.NAME=V`` (one)."""
    from console.commands.run import parse_params

    out: dict[str, dict[str, str]] = {rb.id: {} for rb in runbooks}
    for key, value in parse_params(items).items():
        rb_id, dot, name = key.rpartition(".")
        if dot:
            if rb_id not in out:
                raise UserError(f"--param {key}: no runbook {rb_id!r} is being tested")
            out[rb_id][name] = value
            continue
        takers = [rb.id for rb in runbooks if rb.param(key) is not None]
        if not takers:
            raise UserError(f"--param {key}: no runbook being tested takes a param {key!r}")
        for rb_id in takers:
            out[rb_id][key] = value
    return out


@runbooks.command("test")
@click.argument("targets", nargs=-1, metavar="[PATH]...")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="[RUNBOOK.]KEY=VALUE",
    help="A param value for the runbooks that take it (or for RUNBOOK only).",
)
@click.option("--json", "as_json", is_flag=True, help="Print every trial and check as JSON.")
@click.pass_obj
def test_cmd(
    app: AppContext, targets: tuple[str, ...], params: tuple[str, ...], as_json: bool
) -> int:
    """Run every runbook (or those in PATH...) for real on a fresh demo fleet showing the
    failure mode it declares: its params validate, every step's dry run plans, the run
    clears the mode, and undo restores the findings before it. Exit 1 names each runbook
    that no longer works."""
    from console.engine.runbooks.trial import CHECKS, trial_runbook

    found = _collect(app, targets)
    given = _given(params, found)
    started = time.perf_counter()

    async def go() -> list[Any]:
        trials = []
        for rb in sorted(found, key=lambda r: r.id):
            for mode in rb.failure_modes or (None,):
                trials.append(await trial_runbook(rb, mode, given[rb.id]))
        return trials

    trials = asyncio.run(go())
    wall = round(time.perf_counter() - started, 3)
    failed = [t for t in trials if not t.ok]
    simulated = [t.simulated_s for t in trials if t.simulated_s is not None]
    summary = {
        "ok": not failed,
        "runbooks": len(found),
        "trials": len(trials),
        "passed": len(trials) - len(failed),
        "failed": len(failed),
        "simulated_s": round(sum(simulated), 3) if simulated else None,
        "wall_s": wall,
        "results": [t.to_json() for t in trials],
    }
    if as_json:
        emit_json(summary)
        for t in failed:
            click.echo(f"failed: {t.line()}", err=True)
        return 1 if failed else 0
    rows = [("runbook", "mode", "function", *CHECKS)]
    for t in trials:
        marks = tuple(_MARK[t.checks[c].ok] if c in t.checks else "—" for c in CHECKS)
        rows.append((t.runbook, t.mode or "—", t.function or "—", *marks))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    sim = "—" if summary["simulated_s"] is None else f"{summary['simulated_s']:g}s"
    click.echo(
        f"{len(trials) - len(failed)} of {len(trials)} trials passed ({_count(len(found), 'runbook')}; "
        f"{sim} on the demo's simulated clock, {wall:g}s wall)"
    )
    for t in failed:
        click.echo(f"failed: {t.line()}")
    return 1 if failed else 0


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


COMMANDS = [runbooks]
