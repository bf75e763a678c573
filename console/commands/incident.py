"""``callboard incident``: open, list, show, note, mitigate and resolve incidents.

Commands that change an incident first refresh the fleet once (unless ``--no-refresh``) so
the timeline gets what changed since the last recording and each event the affected
functions' signals at that moment. A failing refresh is reported and the change is
recorded anyway, without signals.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import click

from console.commands.jsonout import emit_json
from console.context import AppContext
from console.core.redact import redact
from console.core.sanitize import clean_line, clean_text
from console.core.snapshot import FleetSnapshot
from console.engine.incidents import lifecycle as inc
from console.errors import CallboardError

_no_refresh = click.option(
    "--no-refresh", is_flag=True, help="Do not refresh the fleet (no signals are recorded)."
)


def with_fleet(
    app: AppContext,
    refresh: bool,
    change: Callable[[FleetSnapshot | None], inc.Incident],
    annotation: Callable[[inc.Incident], str] | None = None,
) -> inc.Incident:
    """Refresh the fleet once (unless told not to), apply ``change`` to the store with that
    snapshot, then tell annotating dashboards — one fleet and one event loop per command.

    A failing refresh is a warning: the change is recorded anyway, without signals. A
    dashboard that fails is a warning too; under read-only each annotation is refused,
    recorded on the incident's timeline (``annotation.refused``) and warned about.
    """
    from console.engine.runbooks.annotations import REFUSED, annotate_incident

    async def run() -> tuple[inc.Incident, dict[str, str]]:
        fleet = None
        snap = None
        try:
            if refresh:
                try:
                    fleet = app.fleet()
                    snap = await fleet.refresh()
                except CallboardError as exc:
                    click.echo(
                        f"warning: no fleet refresh ({exc}); recording without signals", err=True
                    )
            done = change(snap)
            errors: dict[str, str] = {}
            if annotation is not None:
                if fleet is None:
                    with contextlib.suppress(CallboardError):
                        fleet = app.fleet()
                if fleet is not None:  # the fleet: under read-only nothing is posted
                    errors = await annotate_incident(app.store, fleet, done, annotation(done))
            return done, errors
        finally:
            if fleet is not None:
                await fleet.aclose()

    done, errors = asyncio.run(run())
    for name, err in errors.items():
        if err == REFUSED:  # recorded on the timeline as annotation.refused
            click.echo(f"warning: {REFUSED} to {name} (refused, on the timeline)", err=True)
        else:
            click.echo(f"warning: annotation on {name} failed: {redact(err)}", err=True)
    return done


def _signals(snap: FleetSnapshot | None, functions: tuple[str, ...]) -> dict[str, Any] | None:
    return None if snap is None else inc.snapshot_signals(snap, functions)


@click.group()
def incident() -> None:
    """Open, follow and close incidents (their timelines export as postmortems)."""


@incident.command("open")
@click.option("--title", required=True, help="What is wrong, in a few words.")
@click.option("--function", "functions", multiple=True, required=True, metavar="ID",
              help="An affected function id (repeat for several).")  # fmt: skip
@click.option("--severity", default="SEV2", show_default=True, help="SEV1 (worst) to SEV4.")
@click.option("--json", "as_json", is_flag=True, help="Print the incident as JSON.")
@_no_refresh
@click.pass_obj
def open_cmd(
    app: AppContext,
    title: str,
    functions: tuple[str, ...],
    severity: str,
    as_json: bool,
    no_refresh: bool,
) -> int:
    """Open an incident on one or more functions."""
    severity = inc.normalize_severity(severity)
    title = clean_line(title)  # typed or pasted: no escape reaches the timeline

    def change(snap: FleetSnapshot | None) -> inc.Incident:
        if snap is not None:
            known = snap.by_id()
            for fid in functions:
                if fid not in known:
                    click.echo(f"warning: {fid!r} is not in the fleet right now", err=True)
        opened = inc.open_incident(
            app.store, title, functions, severity,
            environment=snap.environment if snap is not None else "",
            signals=_signals(snap, tuple(functions)),
        )  # fmt: skip
        if snap is not None:  # what is already wrong goes on the timeline at once
            inc.record_snapshot(app.store, snap)
        return opened

    opened = with_fleet(
        app, not no_refresh, change, lambda i: f"{i.id} opened ({i.severity}): {i.title}"
    )
    if as_json:
        emit_json(opened.to_json())
    else:
        click.echo(f"opened {opened.id} ({opened.severity}): {redact(opened.title)}")
    return 0


@incident.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the incidents as JSON.")
@click.option("--drills", is_flag=True, help="The drills' records instead (see `drill --list`).")
@click.pass_obj
def list_cmd(app: AppContext, as_json: bool, drills: bool) -> int:
    """Every incident, newest first (drills only with --drills)."""
    if drills:
        from console.engine.drills.store import drill_incidents, drills_dir

        items = drill_incidents(drills_dir(app.db_path))
    else:
        items = inc.list_incidents(app.store)
    if as_json:
        emit_json({"incidents": [i.to_json() for i in items]})
        return 0
    if not items:
        click.echo("no incidents")
    for i in items:
        click.echo(redact(f"{i.id}  {i.status:<9}  {i.severity}  {i.opened_at}  {i.title}  "
                          f"[{', '.join(i.functions)}]"))  # fmt: skip
    return 0


@incident.command("show")
@click.argument("incident_id")
@click.option("--json", "as_json", is_flag=True, help="Print the incident and its timeline.")
@click.pass_obj
def show_cmd(app: AppContext, incident_id: str, as_json: bool) -> int:
    """An incident and its timeline (UTC, sorted by time)."""
    from console.commands.export import onset_window_s, referenced_secrets
    from console.core.postmortem_lines import times_lines
    from console.engine.incidents.export import event_json, postmortem
    from console.engine.incidents.export_secrets import prime_redactor

    pm = postmortem(app.store, incident_id, onset_window_s=onset_window_s(app))
    prime_redactor(app.secrets, referenced_secrets(app))  # shown as an export would be
    if as_json:
        emit_json({
            "incident": pm.incident.to_json(),
            "events": [event_json(r.event, r) for r in pm.timeline],
            "impact": pm.impact.to_json(),
            "times": pm.times.to_json(),
            "team": pm.team.to_json(),
        })  # fmt: skip
        return 0
    i = pm.incident
    team = pm.team
    lines = [f"{i.id} {i.title}", f"  {i.severity}, {i.status}; opened {i.opened_at} by "
             f"{i.opened_by}; functions: {', '.join(i.functions)}",
             f"  roles: {team.roles_line() or 'none assigned'}",
             f"  responders: {', '.join(r.label() for r in team.responders) or 'none'}",
             *times_lines(pm), ""]  # fmt: skip
    width = max((len(r.event.actor) for r in pm.timeline), default=0)
    lines += [
        f"{r.event.at}  {r.event.kind:<17} {r.event.actor:<{width}}  {r.summary}"
        for r in pm.timeline
    ]
    click.echo(redact("\n".join(lines)))
    return 0


@incident.command("note")
@click.argument("incident_id")
@click.argument("text")
@_no_refresh
@click.pass_obj
def note_cmd(app: AppContext, incident_id: str, text: str, no_refresh: bool) -> int:
    """Add a note to the incident's timeline."""
    text = clean_text(text)  # typed or pasted: no escape reaches the timeline
    current = inc.get_incident(app.store, incident_id)
    noted: list[str] = []

    def change(snap: FleetSnapshot | None) -> inc.Incident:
        if snap is not None:
            inc.record_snapshot(app.store, snap)
        ev = inc.add_note(app.store, current.id, text, signals=_signals(snap, current.functions))
        noted.append(ev.at)
        return current

    with_fleet(app, not no_refresh, change)
    click.echo(f"noted on {current.id} at {noted[0]}")
    return 0


def _status(app: AppContext, incident_id: str, status: str, no_refresh: bool) -> int:
    current = inc.get_incident(app.store, incident_id)
    inc.check_transition(current, status)  # before any refresh: a wrong move fails fast

    def change(snap: FleetSnapshot | None) -> inc.Incident:
        if snap is not None:
            inc.record_snapshot(app.store, snap)
        return inc.set_status(
            app.store, current.id, status, signals=_signals(snap, current.functions)
        )

    done = with_fleet(app, not no_refresh, change, lambda i: f"{i.id} {i.status}: {i.title}")
    click.echo(f"{done.id} is {done.status}")
    return 0


@incident.command("mitigate")
@click.argument("incident_id")
@_no_refresh
@click.pass_obj
def mitigate_cmd(app: AppContext, incident_id: str, no_refresh: bool) -> int:
    """Mark the incident mitigated (the impact has stopped)."""
    return _status(app, incident_id, "mitigated", no_refresh)


@incident.command("resolve")
@click.argument("incident_id")
@_no_refresh
@click.pass_obj
def resolve_cmd(app: AppContext, incident_id: str, no_refresh: bool) -> int:
    """Mark the incident resolved (recording on it stops)."""
    return _status(app, incident_id, "resolved", no_refresh)


def _team_commands() -> None:
    from console.commands.incident_team import TEAM_COMMANDS  # assign, unassign, push

    for command in TEAM_COMMANDS:
        incident.add_command(command)


_team_commands()
COMMANDS = [incident]
