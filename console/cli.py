"""The ``callboard`` command: the TUI with no subcommand, headless commands otherwise.

Exit codes: 0 ok, 1 a failure the command reports, 2 bad input or config.
"""

from __future__ import annotations

import sqlite3
import sys

import click

from console.context import AppContext
from console.errors import CallboardError, UserError


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    envvar="CALLBOARD_CONFIG",
    metavar="FILE",
    help="Config file (default: $XDG_CONFIG_HOME/callboard/config.yaml).",
)
@click.option("--demo", is_flag=True, help="Use the built-in demo fleet, whatever the config says.")
@click.option(
    "--demo-size",
    type=click.IntRange(1, 200_000),
    metavar="N",
    help="Number of functions in the demo fleet (default ~48).",
)
@click.option(
    "--read-only", is_flag=True, help="Refuse every mutating step (env CALLBOARD_READ_ONLY)."
)
@click.option(
    "--db",
    "db_path",
    metavar="FILE|URL",
    help="SQLite store (default: XDG data dir), or a postgresql:// team store.",
)
@click.version_option(package_name="callboard")
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: str | None,
    demo: bool,
    demo_size: int | None,
    read_only: bool,
    db_path: str | None,
) -> None:
    """Callboard — a terminal console for the engineer on call.

    With no command, opens the console (the demo fleet when nothing is configured).
    """
    app = AppContext(
        config_path=config_path,
        demo=demo or demo_size is not None,
        read_only=read_only,
        db_path=db_path,
        demo_size=demo_size,
    )
    ctx.obj = app
    ctx.call_on_close(app.close)
    from console.logsetup import setup_logging

    setup_logging()
    if ctx.invoked_subcommand is None:
        from console.commands.tui import run_tui

        run_tui(app)


def _set_global(ctx: click.Context, param: click.Parameter, value: object) -> object:
    """Apply a global option given after the subcommand (``status --demo``)."""
    if value is None or value is False:
        return value
    app = ctx.find_object(AppContext)
    if app is not None and param.name:
        setattr(app, param.name, value)
        if param.name == "demo_size":
            app.demo = True
    return value


def _global_options() -> list[click.Option]:
    """The global options, accepted after any subcommand too."""

    def opt(*decls: str, **kw: object) -> click.Option:
        return click.Option(decls, expose_value=False, callback=_set_global, **kw)  # type: ignore[arg-type]

    return [
        opt("--config", "config_path", metavar="FILE", help="Config file."),
        opt("--demo", is_flag=True, help="Use the built-in demo fleet."),
        opt(
            "--demo-size",
            "demo_size",
            type=click.IntRange(1, 200_000),
            metavar="N",
            help="Functions in the demo fleet.",
        ),
        opt("--read-only", "read_only", is_flag=True, help="Refuse every mutating step."),
        opt("--db", "db_path", metavar="FILE|URL", help="SQLite store or postgresql:// URL."),
    ]


def _add_globals(command: click.Command) -> None:
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _add_globals(sub)
        return
    names = {p.name for p in command.params}
    command.params.extend(o for o in _global_options() if o.name not in names)


def _register() -> None:
    from console.commands import check, demo, paths, secrets, status

    for module in (status, check, paths, secrets, demo):
        for command in module.COMMANDS:
            cli.add_command(command)
    # Commands from later areas register themselves the same way when present.
    import importlib

    for name in (
        "traces", "logs", "otlp", "run", "incident", "export", "audit", "discover", "runbooks",
        "store", "drill",
    ):  # fmt: skip
        try:
            module = importlib.import_module(f"console.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"console.commands.{name}":
                raise
            continue
        for command in module.COMMANDS:
            cli.add_command(command)
    for command in cli.commands.values():
        _add_globals(command)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the CLI, turning Callboard errors into messages and exit codes.

    Everything written to stdout/stderr passes the terminal guard (console.commands.output).
    """
    from console.commands.output import guarded_streams

    with guarded_streams():
        _main(argv)


def _main(argv: list[str] | None) -> None:
    try:
        rc = cli.main(args=argv, prog_name="callboard", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UserError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except CallboardError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except sqlite3.Error as exc:  # from code that drives the store's connection directly
        from console.engine.store.faults import fault
        from console.engine.store.sqlite import Store

        typed = fault(exc, Store.last_path or "the database")
        if typed is None:
            raise
        click.echo(f"error: {typed}", err=True)
        sys.exit(2 if isinstance(typed, UserError) else 1)
    except KeyboardInterrupt:
        sys.exit(130)
    # Commands return None (success) or an int exit code.
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    main()
