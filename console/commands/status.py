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
    """The fleet as one line per function, fitted to the terminal (80 columns when piped):
    tier, owner, traffic and p99 give way before burn, success and the findings."""
    from rich.markup import escape
    from rich.text import Text

    from console.commands.tables import Column, console, fitted_table
    from console.core import fmt
    from console.core.redact import redact

    out = console()
    width = out.width
    env = "PRODUCTION " if snap.production else ""
    out.print(  # names and errors are data: escaped, so markup in them stays literal
        f"[bold]{env}{escape(snap.environment)}[/]  {len(snap.functions)} functions  "
        f"generated {snap.generated_at}" + ("  [reverse] READ-ONLY [/]" if snap.read_only else ""),
        overflow="ellipsis",
        no_wrap=True,
    )
    for b in snap.backends:
        line = Text(f"  backend {b.name} ({b.plugin}): ")
        if b.ok:
            line.append("ok", style="green")
        else:
            line.append("failing", style="red")
            line.append(f" ({redact(b.error or '')})")
            if b.stale_s is not None:
                line.append(f", data {fmt.age(b.stale_s)} old")
        out.print(line)  # wrapped at the width, never cut: the error is what matters here
    rows = sorted(snap.functions, key=lambda h: (h.worst_severity_rank, h.function.id))
    if not all_rows:
        rows = [h for h in rows if h.findings] or rows
    rows = rows[:limit]
    badges: list[str | Text] = []
    for h in rows:
        cell = Text()
        for i, f in enumerate(h.findings):
            if i:
                cell.append("  ")
            style = "bold red" if f.severity.value == "page" else "yellow"
            cell.append(f"{f.mode.value} {f.name}", style=style)
        badges.append(cell)
    sig = [h.signals for h in rows]
    columns = [
        Column("function", [h.function.id for h in rows], keep=True, cut="function", minimum=24),
        Column("owner", [h.function.owner or fmt.NO_DATA for h in rows], 5, cut="text"),
        Column(
            "tier",
            [str(h.function.tier) if h.function.tier is not None else fmt.NO_DATA for h in rows],
            6,
            justify="right",
        ),
        Column("traffic", [fmt.rps(s.rate_rps) for s in sig], 4, justify="right"),
        Column("success", [fmt.pct(s.success_rate) for s in sig], 2, justify="right"),
        Column(
            "p99",
            [fmt.latency(s.p99_ms, "p99_ms" in s.latency_capped) for s in sig],
            3,
            justify="right",
        ),
        Column(
            "burn 1h",
            [fmt.burn(h.burn.rates.get("1h") if h.burn else None) for h in rows],
            1,
            justify="right",
        ),
        Column("findings", badges, keep=True, cut="text", minimum=20),
    ]
    out.print(fitted_table(columns, width))
    hidden = len(snap.functions) - len(rows)
    if hidden > 0:
        out.print(
            f"[dim]{hidden} more functions (healthy or beyond --limit); use --all[/]",
            overflow="ellipsis",
            no_wrap=True,
        )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status --json contract.")
@click.option("--all", "all_rows", is_flag=True, help="Show healthy functions too.")
@click.option("--limit", type=int, default=200, show_default=True, help="Rows in the table.")
@click.pass_obj
def status(app: AppContext, as_json: bool, all_rows: bool, limit: int) -> int:
    """One refresh of the fleet, printed as a table or as JSON, then exit."""
    snap = asyncio.run(refresh_once(app))
    from console.engine.incidents.recorder import record_snapshot

    record_snapshot(app.store, snap)  # a no-op unless an incident is open
    if as_json:
        from console.commands.jsonout import emit_json
        from console.core.statusjson import snapshot_json

        emit_json(snapshot_json(snap))
    else:
        render_table(snap, all_rows=all_rows, limit=limit)
    return 0 if all(b.ok for b in snap.backends) else 1


COMMANDS = [status]
