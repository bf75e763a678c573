"""``callboard paths``: where config, data and logs live."""

from __future__ import annotations

import click

from console.context import AppContext


@click.command()
@click.pass_obj
def paths(app: AppContext) -> None:
    """Print where Callboard reads config and keeps its data and logs."""
    from console import paths as p
    from console.engine.store.pgfaults import is_pg_url, redact_url

    cfg = app.config_path or str(p.config_file())
    click.echo(f"config     {cfg}")
    db = app.db_path
    if db and is_pg_url(db):  # a team store: shown without its password; data stays local
        click.echo(f"team store {redact_url(db)}")
        db = None
    click.echo(f"database   {db or p.default_db()}")
    click.echo(f"data       {p.data_dir()}")
    click.echo(f"logs       {p.log_dir()}")
    click.echo("runbooks   " + "  ".join(str(d) for d in p.runbook_dirs()))


COMMANDS = [paths]
