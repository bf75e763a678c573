"""``callboard demo reset``: forget every action applied to the demo fleet."""

from __future__ import annotations

import click

from console.context import AppContext


@click.group()
def demo() -> None:
    """The built-in demo fleet."""


@demo.command()
@click.pass_obj
def reset(app: AppContext) -> None:
    """Undo every action applied to the demo fleet (they persist until this)."""
    app.local_store.execute("DELETE FROM plugin_state WHERE backend = ?", ("demo",))
    click.echo("demo fleet reset: every applied action forgotten")


COMMANDS = [demo]
