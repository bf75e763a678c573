"""``callboard store migrate`` and ``callboard store info``: the team store (or the local file).

Neither ever shows a password: the URL is printed with its password masked.
"""

from __future__ import annotations

from typing import Any

import click

from console.commands.jsonout import emit_json
from console.context import AppContext


@click.group()
def store() -> None:
    """The store: where incidents, events and runs are kept (SQLite file or PostgreSQL)."""


@store.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def migrate(app: AppContext, as_json: bool) -> int:
    """Bring the store's schema up to date (what `store: {migrate: manual}` asks for)."""
    st = app.store
    before, after = st.migrate()
    if as_json:
        emit_json({"engine": st.engine, "location": st.location, "from": before, "to": after})
    elif before == after:
        click.echo(f"{st.location}: schema up to date (version {after})")
    else:
        click.echo(f"{st.location}: migrated from schema version {before} to {after}")
    return 0


@store.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def info(app: AppContext, as_json: bool) -> int:
    """Engine, location, schema version, what it holds and the head of the event chain."""
    doc = describe(app)
    if as_json:
        emit_json(doc)
        return 0
    schema = doc["schema"]
    lines = [
        f"engine    {doc['engine']}",
        f"location  {doc['location']}",
        f"schema    version {schema['current']} of {schema['latest']}"
        + ("" if schema["current"] == schema["latest"] else " — run `callboard store migrate`"),
    ]
    counts = doc["counts"]
    if counts is None:
        lines.append("holds     — (the schema is behind: counts after `callboard store migrate`)")
    else:
        lines.append(
            f"holds     {counts['incidents']:,} incidents, {counts['events']:,} events, "
            f"{counts['runs']:,} runs"
        )
    head = doc["chain_head"]
    if head is not None:
        lines.append(
            f"chain     head #{head['seq']:,} {head['hash'][:16]}…"
            if head["seq"]
            else "chain     empty"
        )
    if doc["local"] != doc["location"]:
        lines.append(f"local     {doc['local']} (spans, plugin state)")
    click.echo("\n".join(lines))
    return 0


def describe(app: AppContext) -> dict[str, Any]:
    """What ``store info`` shows, as a JSON-ready dict (counts and head None when unknown)."""
    from console.engine.store.chain import read_head

    st = app.store
    current, latest = st.schema_version()
    counts: dict[str, int] | None = None
    head: dict[str, Any] | None = None
    if current == latest:
        counts = {
            table: int(st.tuples(f"SELECT count(*) FROM {table}")[0][0])
            for table in ("incidents", "events", "runs")
        }
        last = read_head(st)
        head = {"seq": last[0], "hash": last[1]} if last else {"seq": 0, "hash": None}
    return {
        "engine": st.engine,
        "location": st.location,
        "schema": {"current": current, "latest": latest},
        "counts": counts,
        "chain_head": head,
        "local": app.local_store.location,
    }


COMMANDS = [store]
