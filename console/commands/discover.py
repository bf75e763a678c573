"""``callboard discover``: ask each backend that can say which metric conventions it sees
(the Prometheus plugin: one convention per job, the scrape interval) and print it, with
the config that pins it, so a user can copy it into callboard.yaml."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import click

from console.context import AppContext
from console.errors import BackendError
from console.plugin_api import Discovers


async def collect(app: AppContext) -> tuple[list[dict[str, Any]], list[str]]:
    """Each discovering backend's report, and the errors of those that failed."""
    fleet = app.fleet()
    reports: list[dict[str, Any]] = []
    errors: list[str] = []
    try:
        for b in fleet.backends:
            plugin = b.plugin
            if not isinstance(plugin, Discovers):
                continue
            try:
                reports.append(await plugin.discover_report())
            except BackendError as exc:
                errors.append(f"backend {b.name}: {exc}")
    finally:
        await fleet.aclose()
    return reports, errors


_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def _safe(text: str) -> str:
    """Known secrets redacted, and any ``user:password@`` in a URL."""
    from console.core.redact import redact

    return _USERINFO.sub("***@", redact(text))


def _seconds(s: float | None) -> str:
    return "—" if s is None else f"{s:g}s"


def render(report: dict[str, Any]) -> None:
    """Print one backend's report for people."""
    import yaml

    click.echo(f"backend {report['backend']} ({_safe(report['url'])})")
    if not report["jobs"]:
        click.echo("  no job exposes a known HTTP request metric")
    for job, j in report["jobs"].items():
        click.echo(
            f"  job {job}: {j['convention']} ({j['library']}), "
            f"scraped every {_seconds(j['scrape_interval_s'])}"
        )
    click.echo(
        f"  scrape interval {_seconds(report['scrape_interval_s'])}, rate window "
        f"{_seconds(report['rate_window_s']) if report['rate_window_s'] else 'the refresh window'}"
        f", {report['functions']} function(s)"
    )
    for w in report["warnings"]:
        click.echo(f"  warning: {_safe(w)}")
    if report["config"]:
        click.echo("  config that pins this (add your auth/headers):")
        text = yaml.safe_dump({"backends": [report["config"]]}, sort_keys=False)
        click.echo("\n".join("    " + line for line in _safe(text).splitlines()))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.pass_obj
def discover(app: AppContext, as_json: bool) -> int:
    """Show the metric conventions, scrape interval and config each Prometheus implies."""
    reports, errors = asyncio.run(collect(app))
    if as_json:
        from console.commands.jsonout import emit_json

        emit_json(json.loads(_safe(json.dumps({"backends": reports, "errors": errors}))))
    else:
        if not reports and not errors:
            click.echo("no backend that discovers conventions (plugin: prometheus) is configured")
        for r in reports:
            render(r)
    for e in errors:
        click.echo(_safe(e), err=True)
    return 1 if errors else 0


COMMANDS = [discover]
