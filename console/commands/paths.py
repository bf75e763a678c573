"""``callboard paths``: where config, data and logs live."""

from __future__ import annotations

import click

from console.context import AppContext


@click.command()
@click.pass_obj
def paths(app: AppContext) -> None:
    """Print where Callboard reads config and keeps its data and logs."""
    from console import paths as p

    cfg = app.config_path or str(p.config_file())
    click.echo(f"config     {cfg}")
    click.echo(f"database   {app.db_path or p.default_db()}")
    click.echo(f"data       {p.data_dir()}")
    click.echo(f"logs       {p.log_dir()}")
    click.echo("runbooks   " + "  ".join(str(d) for d in p.runbook_dirs()))


COMMANDS = [paths]
