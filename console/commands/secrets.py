"""``callboard secrets set/list/delete``: secrets live in the OS keyring, never on disk."""

from __future__ import annotations

import click

from console.context import AppContext


@click.group()
def secrets() -> None:
    """Manage secrets referenced in config as {secret: NAME}."""


@secrets.command("set")
@click.argument("name")
@click.pass_obj
def set_(app: AppContext, name: str) -> None:
    """Store NAME in the keyring; the value is read without echo."""
    value = click.prompt(f"value for {name}", hide_input=True, confirmation_prompt=True)
    app.secrets.set(name, value)
    click.echo(f"secret {name} stored in the keyring")


@secrets.command("list")
@click.pass_obj
def list_(app: AppContext) -> None:
    """List secret names (never values) and where each lives."""
    usable, message = app.secrets.backend_usable()
    if not usable:
        click.echo(message, err=True)
    names = app.secrets.names()
    if not names:
        click.echo("no secrets")
    for n in names:
        click.echo(n)


@secrets.command()
@click.argument("name")
@click.pass_obj
def delete(app: AppContext, name: str) -> None:
    """Remove NAME from the keyring."""
    app.secrets.delete(name)
    click.echo(f"secret {name} deleted")


COMMANDS = [secrets]
