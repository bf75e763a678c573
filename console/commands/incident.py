"""``callboard incident``: open, list, show, note, mitigate and resolve incidents.

Commands that change an incident first refresh the fleet once (unless ``--no-refresh``) so
the timeline gets what changed since the last recording and each event the affected
functions' signals at that moment. A failing refresh is reported and the change is
recorded anyway, without signals.
"""

from __future__ import annotations

import asyncio
from typing import Any

import click

from console.commands.jsonout import emit_json
from console.context import AppContext
from console.core.redact import redact
from console.core.snapshot import FleetSnapshot
from console.engine import incidents as inc
from console.errors import CallboardError

_no_refresh = click.option(
    "--no-refresh", is_flag=True, help="Do not refresh the fleet (no signals are recorded)."
)


def refresh_and_record(app: AppContext, *, enabled: bool = True) -> FleetSnapshot | None:
    """One fleet refresh recorded on every active incident; None (with a warning) on failure."""
    if not enabled:
        return None
    from console.commands.status import refresh_once

    try:
        snap = asyncio.run(refresh_once(app))
    except CallboardError as exc:
        click.echo(f"warning: no fleet refresh ({exc}); recording without signals", err=True)
        return None
    inc.record_snapshot(app.store, snap)
    return snap


def post_annotation(app: AppContext, incident: inc.Incident, text: str) -> None:
    """Send an incident change to the dashboards that want it (warn, never fail)."""
    from console.engine.annotations import annotate, annotators

    fleet = app.fleet()
    try:
        if not annotators(fleet.backends):
            return
        errors = asyncio.run(
            annotate(
                fleet.backends,
                text,
                incident_id=incident.id,
                function_id=incident.functions[0] if incident.functions else "",
                tags=("incident", incident.status),
            )
        )
    finally:
        asyncio.run(fleet.aclose())
    for name, err in errors.items():
        click.echo(f"warning: annotation on {name} failed: {redact(err)}", err=True)


def _signals(snap: FleetSnapshot | None, functions: tuple[str, ...]) -> dict[str, Any] | None:
    return None if snap is None else inc.snapshot_signals(snap, functions)


def _print_json(obj: Any) -> None:
    emit_json(obj)


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
    snap = None
    if not no_refresh:
        from console.commands.status import refresh_once

        try:
            snap = asyncio.run(refresh_once(app))
        except CallboardError as exc:
            click.echo(f"warning: no fleet refresh ({exc}); recording without signals", err=True)
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
    post_annotation(app, opened, f"{opened.id} opened ({opened.severity}): {opened.title}")
    if as_json:
        _print_json(opened.to_json())
    else:
        click.echo(f"opened {opened.id} ({opened.severity}): {redact(opened.title)}")
    return 0


@incident.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the incidents as JSON.")
@click.pass_obj
def list_cmd(app: AppContext, as_json: bool) -> int:
    """Every incident, newest first."""
    items = inc.list_incidents(app.store)
    if as_json:
        _print_json({"incidents": [i.to_json() for i in items]})
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
    from console.engine.export import event_json, postmortem

    pm = postmortem(app.store, incident_id)
    if as_json:
        _print_json({
            "incident": pm.incident.to_json(),
            "events": [event_json(r.event, r) for r in pm.timeline],
            "impact": pm.impact.to_json(),
        })  # fmt: skip
        return 0
    i = pm.incident
    lines = [f"{i.id} {i.title}", f"  {i.severity}, {i.status}; opened {i.opened_at} by "
             f"{i.opened_by}; functions: {', '.join(i.functions)}", ""]  # fmt: skip
    lines += [f"{r.event.at}  {r.event.kind:<17} {r.summary}" for r in pm.timeline]
    click.echo(redact("\n".join(lines)))
    return 0


@incident.command("note")
@click.argument("incident_id")
@click.argument("text")
@_no_refresh
@click.pass_obj
def note_cmd(app: AppContext, incident_id: str, text: str, no_refresh: bool) -> int:
    """Add a note to the incident's timeline."""
    current = inc.get_incident(app.store, incident_id)
    snap = refresh_and_record(app, enabled=not no_refresh)
    ev = inc.add_note(app.store, current.id, text, signals=_signals(snap, current.functions))
    click.echo(f"noted on {current.id} at {ev.at}")
    return 0


def _status(app: AppContext, incident_id: str, status: str, no_refresh: bool) -> int:
    current = inc.get_incident(app.store, incident_id)
    inc.check_transition(current, status)  # before any refresh: a wrong move fails fast
    snap = refresh_and_record(app, enabled=not no_refresh)
    done = inc.set_status(app.store, current.id, status, signals=_signals(snap, current.functions))
    post_annotation(app, done, f"{done.id} {done.status}: {done.title}")
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


COMMANDS = [incident]
