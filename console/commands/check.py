"""``callboard check``: validate the config (and runbooks) without touching any backend."""

from __future__ import annotations

import click

from console.context import AppContext
from console.errors import ConfigError, ConfigErrors


def collect_problems(app: AppContext) -> tuple[list[str], list[str]]:
    """Returns (problems, notes). Each problem is one located line."""
    problems: list[str] = []
    notes: list[str] = []
    try:
        config = app.config
    except ConfigErrors as exc:
        return [e.located() for e in exc.errors], notes
    except ConfigError as exc:
        return [exc.located()], notes
    from console.engine import registry

    known = registry.available()
    for b in config.backends:
        if b.plugin not in known:
            where = ConfigError(
                f"backends: {b.name!r} uses unknown plugin {b.plugin!r} "
                f"(installed: {', '.join(sorted(known))})",
                config.source,
                b.line,
            )
            problems.append(where.located())
    if not problems:
        try:
            from console.core.diagnose import Thresholds

            Thresholds.from_mapping(config.thresholds)
        except ValueError as exc:
            problems.append(ConfigError(f"thresholds: {exc}", config.source).located())
    try:
        from console.commands.runbooks_check import check_runbooks  # issue 6
    except ModuleNotFoundError:
        pass
    else:
        p, n = check_runbooks(app)
        problems += p
        notes += n
    src = config.source or "(no config file: built-in defaults, demo fleet)"
    notes.insert(0, f"config {src}: {len(config.backends)} backend(s)")
    return problems, notes


@click.command()
@click.pass_obj
def check(app: AppContext) -> int:
    """Validate config and runbooks; exit 2 listing every problem with file:line."""
    problems, notes = collect_problems(app)
    for p in problems:
        click.echo(p, err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) found", err=True)
        raise SystemExit(2)
    for n in notes:
        click.echo(n)
    click.echo("ok")
    return 0


COMMANDS = [check]
