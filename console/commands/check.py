"""``callboard check``: validate the config (and runbooks) without touching any backend;
with ``--probe``, then ask each backend once (:mod:`console.commands.probe`).

Every backend is built as the other commands build it (constructors do no network I/O),
so ``check`` rejects exactly what they reject."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any, cast

import click

from console.context import AppContext
from console.errors import ConfigError, ConfigErrors, SecretError, UserError

if TYPE_CHECKING:
    from console.engine.store.secrets import SecretStore


class _NotingSecrets:
    """A secret store for ``check``: a missing secret becomes a note and a placeholder.

    The secret may live only on the on-call machine; whether the config is right does not
    depend on it.
    """

    PLACEHOLDER = "callboard-check-placeholder"

    def __init__(self, real: Any) -> None:
        self.real = real
        self.missing: dict[str, str] = {}

    def get(self, name: str) -> str:
        try:
            value: str = self.real.get(name)
        except SecretError as exc:
            self.missing.setdefault(name, str(exc))
            return self.PLACEHOLDER
        return value


def check_fleet(app: AppContext) -> tuple[list[str], list[str]]:
    """Build every configured backend exactly as the other commands do (constructors do no
    network I/O), report what they reject with file:line, and close what was built."""
    from console.engine.fleet.build import build_fleet

    secrets = _NotingSecrets(app.secrets)
    try:
        fleet = build_fleet(app.config, secrets=cast("SecretStore", secrets))
    except ConfigErrors as exc:
        problems = [e.located() for e in exc.errors]
    except ConfigError as exc:
        problems = [exc.located()]
    except UserError as exc:
        problems = [ConfigError(str(exc), app.config.source).located()]
    else:
        problems = []
        with contextlib.suppress(RuntimeError):  # already inside an event loop
            asyncio.run(fleet.aclose())
    notes = [
        f"note: {message} (needed where Callboard runs against these backends)"
        for message in secrets.missing.values()
    ]
    return problems, notes


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
    p, n = check_fleet(app)
    problems += p
    notes += n
    try:
        from console.commands.runbooks_check import check_runbooks  # issue 6
    except ModuleNotFoundError:
        pass
    else:
        p, n = check_runbooks(app)
        problems += p
        notes += n
    notes += store_notes(app)
    src = config.source or "(no config file: built-in defaults, demo fleet)"
    notes.insert(0, f"config {src}: {len(config.backends)} backend(s)")
    return problems, notes


def store_notes(app: AppContext) -> list[str]:
    """Where the team store is (without a password) and whether its password secret is
    here; nothing is contacted."""
    store = app.config.store
    if not store.url:
        return []
    from console.engine.store.pgfaults import redact_url

    notes = [f"store: team store {redact_url(store.url)} (migrate: {store.migrate})"]
    if store.password:
        secrets = _NotingSecrets(app.secrets)
        secrets.get(store.password)
        notes += [f"note: store.password: {message}" for message in secrets.missing.values()]
    return notes


@click.command()
@click.option(
    "--probe", is_flag=True, help="Also ask each backend once (and run each custom query once)."
)
@click.option("--json", "as_json", is_flag=True, help="With --probe: print the probe as JSON.")
@click.pass_obj
def check(app: AppContext, probe: bool, as_json: bool) -> int:
    """Validate config and runbooks; exit 2 listing every problem with file:line.

    With --probe, also ask each backend once: exit 1 when one (or a custom query) fails."""
    if as_json and not probe:
        raise click.UsageError("--json needs --probe")
    problems, notes = collect_problems(app)
    for p in problems:
        click.echo(p, err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) found", err=True)
        raise SystemExit(2)
    if not as_json:
        for n in notes:
            click.echo(n)
    if probe:
        return run_probe(app, as_json)
    click.echo("ok")
    return 0


def run_probe(app: AppContext, as_json: bool) -> int:
    """Probe every backend; print per backend (and custom query) ok or the error."""
    from console.commands import probe

    try:
        reports = asyncio.run(probe.probe_fleet(app.config, secrets=app.secrets))
    except (ConfigErrors, ConfigError, UserError) as exc:  # e.g. a secret missing here
        errors = exc.errors if isinstance(exc, ConfigErrors) else [exc]
        for e in errors:
            text = e.located() if isinstance(e, ConfigError) else str(e)
            click.echo(f"cannot probe: {text}", err=True)
        raise SystemExit(1) from None
    failed = probe.failures(reports)
    if as_json:
        from console.commands.jsonout import emit_json

        emit_json({"ok": failed == 0, "backends": reports})
    else:
        probe.render(reports)
        click.echo(f"{failed} failure(s)" if failed else "ok")
    raise SystemExit(1 if failed else 0)


COMMANDS = [check]
