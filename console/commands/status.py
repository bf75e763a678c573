"""``callboard status``: one refresh of the fleet, as a table or as JSON."""

from __future__ import annotations

import asyncio

import click

from console.context import AppContext
from console.core.snapshot import FleetSnapshot


async def refresh_once(app: AppContext) -> FleetSnapshot:
    """Build the fleet, refresh it once, close it."""
    fleet = app.fleet()
    try:
        return await fleet.refresh()
    finally:
        await fleet.aclose()


def render_table(snap: FleetSnapshot, *, all_rows: bool, limit: int) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from console.core import fmt
    from console.core.redact import redact

    console = Console(highlight=False)
    if not console.is_terminal:  # piped: do not squeeze the table into 80 columns
        console = Console(highlight=False, width=160)
    env = "PRODUCTION " if snap.production else ""
    console.print(  # names and errors are data: escaped, so markup in them stays literal
        f"[bold]{env}{escape(snap.environment)}[/]  {len(snap.functions)} functions  "
        f"generated {snap.generated_at}" + ("  [reverse] READ-ONLY [/]" if snap.read_only else "")
    )
    for b in snap.backends:
        state = "[green]ok[/]" if b.ok else f"[red]failing[/] ({escape(redact(b.error or ''))})"
        if not b.ok and b.stale_s is not None:
            state += f", data {fmt.age(b.stale_s)} old"
        console.print(f"  backend {escape(b.name)} ({escape(b.plugin)}): {state}")
    rows = sorted(snap.functions, key=lambda h: (h.worst_severity_rank, h.function.id))
    if not all_rows:
        rows = [h for h in rows if h.findings] or rows
    table = Table(header_style="bold", expand=False)
    for col in ("function", "owner", "tier", "traffic", "success", "p99", "burn 1h", "findings"):
        table.add_column(
            col,
            no_wrap=col != "findings",
            justify="right" if col in ("traffic", "success", "p99", "burn 1h", "tier") else "left",
        )
    for h in rows[:limit]:
        s = h.signals
        badges = Text()
        for f in h.findings:
            style = "bold red" if f.severity.value == "page" else "yellow"
            badges.append(f"{f.mode.value} {f.name}", style=style)
            badges.append("  ")
        table.add_row(
            Text(h.function.id),
            Text(h.function.owner or fmt.NO_DATA),
            str(h.function.tier) if h.function.tier is not None else fmt.NO_DATA,
            fmt.rps(s.rate_rps),
            fmt.pct(s.success_rate),
            fmt.latency(s.p99_ms, "p99_ms" in s.latency_capped),
            fmt.burn(h.burn.rates.get("1h") if h.burn else None),
            badges,
        )
    console.print(table)
    hidden = len(snap.functions) - min(len(rows), limit)
    if hidden > 0:
        console.print(f"[dim]{hidden} more functions (healthy or beyond --limit); use --all[/]")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status --json contract.")
@click.option("--all", "all_rows", is_flag=True, help="Show healthy functions too.")
@click.option("--limit", type=int, default=200, show_default=True, help="Rows in the table.")
@click.pass_obj
def status(app: AppContext, as_json: bool, all_rows: bool, limit: int) -> int:
    """One refresh of the fleet, printed as a table or as JSON, then exit."""
    snap = asyncio.run(refresh_once(app))
    from console.engine.recorder import record_snapshot

    record_snapshot(app.store, snap)  # a no-op unless an incident is open
    if as_json:
        from console.commands.jsonout import emit_json
        from console.core.statusjson import snapshot_json

        emit_json(snapshot_json(snap))
    else:
        render_table(snap, all_rows=all_rows, limit=limit)
    return 0 if all(b.ok for b in snap.backends) else 1


COMMANDS = [status]
