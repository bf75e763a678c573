"""``callboard audit verify``: walk the hash-chained event log and name the first bad event."""

from __future__ import annotations

import time

import click

from console.commands.jsonout import emit_json
from console.context import AppContext
from console.engine.store.events import EventLog


@click.group()
def audit() -> None:
    """Check the tamper-evident event log."""


@audit.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def verify(app: AppContext, as_json: bool) -> int:
    """Exit 0 when every stored event is intact and in place; 1 naming the first bad one."""
    started = time.perf_counter()
    result = EventLog(app.store).verify()
    took = time.perf_counter() - started
    if as_json:
        bad = None if result.ok else {"seq": result.bad_seq, "id": result.bad_id}
        emit_json({"ok": result.ok, "checked": result.checked, "bad_event": bad,
                   "reason": result.reason or None, "seconds": round(took, 3)})  # fmt: skip
    elif result.ok:
        click.echo(f"ok: the chain holds ({result.checked:,} events verified in {took:.2f}s)")
    else:
        ident = f" (id {result.bad_id})" if result.bad_id else ""
        click.echo(f"TAMPERED: event #{result.bad_seq}{ident}: {result.reason}", err=True)
        click.echo(f"{result.checked:,} events before it verified", err=True)
    return 0 if result.ok else 1


COMMANDS = [audit]
