"""``callboard incident assign / unassign / push``: roles on an incident, and pushing an
incident recorded offline into a team store.

They join the ``incident`` group (``incident.py`` adds :data:`TEAM_COMMANDS` to it).
Read-only refuses role changes (exit 3). A push prints the target without its password.
"""

from __future__ import annotations

import click

from console.commands.jsonout import emit_json
from console.context import AppContext
from console.core.redact import redact
from console.core.sanitize import clean_line


@click.command("assign")
@click.argument("incident_id")
@click.argument("role")
@click.argument("who")
@click.pass_obj
def assign_cmd(app: AppContext, incident_id: str, role: str, who: str) -> int:
    """Give ROLE (commander, comms, ops, ...) on the incident to WHO (a handle)."""
    from console.engine.incidents.roles import assign

    name, handle, was = assign(
        app.store, incident_id, role, clean_line(who), read_only=app.config.read_only
    )
    iid = incident_id.strip().upper()
    if was == handle:
        click.echo(f"{handle} already holds {name} on {iid}")
    else:
        before = f" (was {was})" if was else ""
        click.echo(f"{name} on {iid}: {handle}{before}")
    return 0


@click.command("unassign")
@click.argument("incident_id")
@click.argument("role")
@click.pass_obj
def unassign_cmd(app: AppContext, incident_id: str, role: str) -> int:
    """Nobody holds ROLE on the incident any more."""
    from console.engine.incidents.roles import unassign

    was = unassign(app.store, incident_id, role, read_only=app.config.read_only)
    click.echo(f"{role.strip().lower()} on {incident_id.strip().upper()}: unassigned (was {was})")
    return 0


@click.command("push")
@click.argument("incident_id")
@click.option("--to", "to", required=True, metavar="URL", help="The team store (path or URL).")
@click.option(
    "--password-secret",
    metavar="NAME",
    help="The target's password: a secret NAME (keyring, or CALLBOARD_SECRET_<NAME>).",
)
@click.option("--check", is_flag=True, help="Check the local file against the last push.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def push_cmd(
    app: AppContext, incident_id: str, to: str, password_secret: str | None, check: bool,
    as_json: bool,
) -> int:  # fmt: skip
    """Copy an incident recorded here into the store at --to (pushing twice adds nothing).

    With --check: verify the local chain and that every pushed event is in the target as
    it is here (exit 1 if not).
    """
    from console.engine.incidents.push import check_push, push_incident, safe_url
    from console.engine.store.connect import open_store

    password = app.secrets.get(password_secret) if password_secret else None
    shown = redact(safe_url(to))
    target = open_store(to, password=password)
    try:
        if check:
            result = check_push(app.store, incident_id, target)
            if as_json:
                emit_json(result.to_json())
            elif result.ok:
                click.echo(
                    f"{incident_id.strip().upper()} matches its push to {shown} "
                    f"({result.checked} events, pushed {result.pushed_at} as {result.incident_id})"
                )
            else:
                click.echo(f"{incident_id.strip().upper()} does not match {shown}:", err=True)
                for problem in result.problems:
                    click.echo(f"  {problem}", err=True)
            return 0 if result.ok else 1
        pushed = push_incident(app.store, incident_id, target)
    finally:
        target.close()
    if as_json:
        emit_json(pushed.to_json())
        return 0
    where = pushed.incident_id
    if pushed.new_events == 0:
        click.echo(f"{pushed.source_incident} is already in {shown} as {where}: nothing new")
    else:
        renamed = f" as {where}" if where != pushed.source_incident else ""
        click.echo(
            f"pushed {pushed.source_incident} to {shown}{renamed}: {pushed.new_events} new of "
            f"{pushed.events} events; local head #{pushed.head_seq} {pushed.head_hash[:16]}… "
            "recorded there"
        )
    return 0


TEAM_COMMANDS = [assign_cmd, unassign_cmd, push_cmd]
