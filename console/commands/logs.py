"""``callboard logs FUNCTION|--trace ID``: log records from every log source.

Sources: the embedded OTLP receiver's store (always, first) and every configured backend
with the Logs capability (``loki``). A function id ``service:operation`` (or a bare
service name) asks for its service's records in the last ``--since``; ``--trace`` and
``--span`` ask for a trace's or span's records whenever they were written. Records print
oldest first, like a log file; ``--follow`` keeps printing new ones until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from console.commands.jsonout import dumps, emit_json
from console.commands.traces import iso, parse_function
from console.context import AppContext
from console.core import traces as core_traces
from console.core.logmodel import LogQuery, LogRecord, first_line
from console.errors import UserError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from console.engine.fleet.refresh import Fleet

#: The furthest back a search may reach.
MAX_SINCE_S = 400 * 86400.0
#: Seconds between two polls of ``--follow``.
FOLLOW_EVERY_S = 1.0
#: Each poll looks this far behind the newest record seen: a record stamped a moment
#: before it may arrive later (a batching exporter, a skewed clock); seen keys drop repeats.
FOLLOW_SLACK_NS = 30 * 10**9
#: Rich styles of each level (the console uses its theme's variables instead).
LEVEL_STYLE = {
    "FATAL": "bold reverse red",
    "ERROR": "bold red",
    "WARN": "yellow",
    "INFO": "",
    "DEBUG": "dim",
    "TRACE": "dim",
}


def record_json(r: LogRecord) -> dict[str, Any]:
    """One record in the ``logs --json`` contract (README "Logs")."""
    return {
        "time": iso(r.time_ns),
        "time_unix_nano": r.time_ns,
        "severity": r.severity,
        "severity_number": r.severity_number,
        "severity_text": r.severity_text,
        "body": r.body,
        "service": r.service,
        "trace_id": r.trace_id,
        "span_id": r.span_id,
        "attributes": dict(r.attributes),
        "scope": r.scope,
        "source": r.source,
    }


def build_query(
    function: str | None,
    trace_id: str | None,
    span_id: str | None,
    errors: bool,
    since: str | None,
    limit: int,
    now_ns: int,
) -> LogQuery:
    """The query the options ask for. Raises UserError for a bad id or duration."""
    from console.config import parse_duration

    if not (function or trace_id or span_id):
        raise UserError("give a FUNCTION, --trace ID or --span ID")
    service = parse_function(function)[0] if function else None
    try:
        tid = core_traces.trace_id(trace_id) if trace_id else None
    except ValueError as exc:
        raise UserError(f"--trace: {exc}") from None
    try:
        sid = core_traces.span_id(span_id) if span_id else None
    except ValueError as exc:
        raise UserError(f"--span: {exc}") from None
    window = since if since is not None else (None if (tid or sid) else "15m")
    since_ns = None
    if window is not None:
        try:
            window_s = parse_duration(window)
        except ValueError as exc:
            raise UserError(f"--since: {exc}") from None
        if not 0 < window_s <= MAX_SINCE_S:
            raise UserError(
                f"--since: expected a duration above 0 and at most 400d, got {window!r}"
            )
        since_ns = now_ns - int(window_s * 1e9)
    return LogQuery(
        service=service,
        trace_id=tid,
        span_id=sid,
        since_ns=since_ns,
        errors_only=errors,
        limit=limit,
    )


async def _ask(fleet: Fleet, query: LogQuery) -> tuple[list[LogRecord], dict[str, str]]:
    found = await fleet.find_logs(query)
    return found, dict(fleet.log_errors)


def _report(errors: dict[str, str]) -> None:
    from console.core.redact import redact

    for name, error in errors.items():
        click.echo(f"log source {name} failed: {redact(error)}", err=True)


@click.command()
@click.argument("function", required=False)
@click.option("--trace", "trace_id", metavar="ID", help="The records of one trace.")
@click.option("--span", "span_id", metavar="ID", help="The records of one span.")
@click.option("--errors", is_flag=True, help="Only ERROR and FATAL records.")
@click.option(
    "--since",
    default=None,
    help="How far back (30s, 15m, 1h, 7d); default 15m for a function, all for a trace.",
)
@click.option(
    "--limit",
    type=click.IntRange(1, 10_000),
    default=100,
    show_default=True,
    help="Most records shown (the newest).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {logs: [...], errors: {}}.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new records until Ctrl-C.")
@click.pass_obj
def logs(
    app: AppContext,
    function: str | None,
    trace_id: str | None,
    span_id: str | None,
    errors: bool,
    since: str | None,
    limit: int,
    as_json: bool,
    follow: bool,
) -> int:
    """Log records of FUNCTION (a function id service:operation, or a service name), or of
    a trace (--trace) or span (--span), oldest first."""
    query = build_query(function, trace_id, span_id, errors, since, limit, time.time_ns())
    what = function or (f"trace {query.trace_id}" if query.trace_id else f"span {query.span_id}")
    return asyncio.run(_run(app, query, what, as_json, follow))


async def _run(app: AppContext, query: LogQuery, what: str, as_json: bool, follow: bool) -> int:
    fleet = app.fleet()
    try:
        found, errs = await _ask(fleet, query)
        _report(errs)
        sources = fleet.log_sources()
        all_failed = bool(sources) and all(s in errs for s in sources)
        found.reverse()  # oldest first
        if as_json and not follow:
            emit_json({"logs": [record_json(r) for r in found], "errors": errs})
        elif as_json:
            for r in found:
                click.echo(dumps(record_json(r)))
        else:
            render_records(found, what)
        if not follow:
            return 1 if all_failed else 0
        await follow_logs(fleet, query, found, as_json)
        return 0
    finally:
        await fleet.aclose()


async def follow_logs(
    fleet: Fleet,
    query: LogQuery,
    seen: list[LogRecord],
    as_json: bool,
    *,
    polls: int | None = None,
    sleep: Callable[[float], Any] = asyncio.sleep,
) -> None:
    """Print records newer than those ``seen`` as they arrive, until Ctrl-C or until the
    reader goes away (``| head``); ``polls`` bounds the loop in tests. A record seen once
    is not printed again."""
    keys = {r.key() for r in seen}
    newest = max((r.time_ns for r in seen), default=query.since_ns or time.time_ns() - 60 * 10**9)
    out: Console | None = None  # made at the first line printed, then kept
    n = 0
    while (polls is None or n < polls) and not getattr(sys.stdout, "gone", False):
        n += 1
        await sleep(FOLLOW_EVERY_S)
        found, errs = await _ask(fleet, _since(query, newest))
        _report(errs)
        fresh = [r for r in reversed(found) if r.key() not in keys]
        for r in fresh:
            keys.add(r.key())
            newest = max(newest, r.time_ns)
            if as_json:
                click.echo(dumps(record_json(r)))
            else:
                if out is None:
                    from console.commands.tables import console

                    out = console()
                out.print(record_line(r, out.width), no_wrap=True, overflow="crop")
        if len(keys) > 100_000:  # a long follow: forget the oldest keys, bounded memory
            keys = {r.key() for r in fresh}


def _since(query: LogQuery, newest: int) -> LogQuery:
    from dataclasses import replace

    return replace(query, since_ns=newest - FOLLOW_SLACK_NS)


def render_records(found: list[LogRecord], what: str) -> None:
    """One line per record, fitted to the terminal (80 columns when piped): the level and
    the message always stay; span id, trace id, source and service give way first."""
    from rich.text import Text

    from console.commands.tables import Column, console, fitted_table

    out = console()
    if not found:
        out.print(Text(f"no log records for {what}"))
        return
    times = [iso(r.time_ns)[:-1].replace("T", " ") for r in found]
    # every sender's string as Text: a body holding "[bold]" is text, never rich markup
    columns = [
        Column("time (UTC)", list(times), 3, compact=[t[11:] for t in times], compact_header="UTC"),
        Column(
            "level",
            [Text(r.severity or "—", style=LEVEL_STYLE.get(r.severity or "", "")) for r in found],
            keep=True,
        ),
        Column("service", [Text(r.service) for r in found], 4, cut="text", minimum=8),
        Column(
            "message",
            [Text(first_line(r.body)) for r in found],
            1,
            keep=True,
            cut="text",
            minimum=20,
        ),
        Column("trace id", [r.trace_id or "—" for r in found], 5, cut="id", minimum=10),
        Column("span id", [r.span_id or "—" for r in found], 6),
        Column("source", [Text(r.source) for r in found], 7, cut="text"),
    ]
    out.print(fitted_table(columns, out.width))


def record_line(r: LogRecord, width: int) -> Text:
    """One followed record in ``width`` cells: time, level, service, message."""
    from rich.text import Text

    line = Text(iso(r.time_ns)[11:-1] + " ", style="dim")
    line.append(f"{r.severity or '—':5} ", style=LEVEL_STYLE.get(r.severity or "", ""))
    line.append(f"{r.service} ", style="cyan")
    line.append(first_line(r.body))
    line.truncate(width, overflow="ellipsis")
    return line


COMMANDS = [logs]
