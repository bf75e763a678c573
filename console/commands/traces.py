"""``callboard traces FUNCTION`` and ``callboard trace ID``: search and show traces.

Sources: the configured trace backends (or the demo) and, always, the embedded OTLP
receiver's store — asked first, since it is local and fast.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from console.commands.jsonout import emit_json
from console.context import AppContext
from console.core import fmt
from console.core import traces as core_traces
from console.core.model import Span, Trace, TraceQuery, TraceSummary
from console.errors import UserError

if TYPE_CHECKING:
    from rich.text import Text

    from console.engine.fleet.refresh import Fleet


#: The furthest back a search may reach (no trace backend keeps more than about a year).
MAX_SINCE_S = 400 * 86400.0


def trace_fleet(app: AppContext) -> Fleet:
    """The app's fleet (it includes the embedded OTLP store as the first trace source)."""
    return app.fleet()


def parse_function(function: str) -> tuple[str, str | None]:
    """A function id ``service:operation`` (or a bare service name) → (service, operation)."""
    service, sep, operation = function.partition(":")
    if not service:
        raise UserError(f"FUNCTION {function!r}: expected a service name or service:operation")
    return service, (operation or None) if sep else None


def iso(ns: int) -> str:
    """Unix ns → ``2026-11-26T21:00:00.123Z``."""
    secs, rem = divmod(ns, 10**9)
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{rem // 10**6:03d}Z"


def summary_json(t: TraceSummary) -> dict[str, Any]:
    return {
        "trace_id": t.trace_id,
        "root_service": t.root_service,
        "root_name": t.root_name,
        "start": iso(t.start_ns),
        "duration_ms": t.duration_ms,
        "span_count": t.span_count,
        "error_count": t.error_count,
        "source": t.source,
    }


def span_json(s: Span) -> dict[str, Any]:
    return {
        "span_id": s.span_id,
        "parent_id": s.parent_id,
        "service": s.service,
        "name": s.name,
        "kind": s.kind,
        "start_unix_nano": s.start_ns,
        "duration_ns": s.duration_ns,
        "status": s.status,
        "status_message": s.status_message,
        "attributes": dict(s.attributes),
        "events": [dict(e) for e in s.events],
    }


def trace_json(t: Trace) -> dict[str, Any]:
    return {
        "trace_id": t.trace_id,
        "source": t.source,
        "spans": [span_json(s) for s in t.spans],
        "first_error_span_id": t.first_error_span_id,
        "warnings": list(t.warnings),
    }


async def _search(app: AppContext, query: TraceQuery) -> tuple[list[TraceSummary], Asked]:
    fleet = trace_fleet(app)
    try:
        found = await fleet.find_traces(query)
        return found, Asked(_trace_sources(fleet), dict(fleet.trace_errors))
    finally:
        await fleet.aclose()


async def _fetch(app: AppContext, trace_id: str) -> tuple[Trace | None, Asked]:
    fleet = trace_fleet(app)
    try:
        found = await fleet.trace(trace_id)
        return found, Asked(_trace_sources(fleet), dict(fleet.trace_errors))
    finally:
        await fleet.aclose()


@dataclass(frozen=True)
class Asked:
    """Which trace sources were asked, and the error of each that failed."""

    sources: list[str]
    errors: dict[str, str]

    @property
    def all_failed(self) -> bool:
        return bool(self.sources) and all(s in self.errors for s in self.sources)

    def report(self) -> None:
        """One stderr line per failing source (redacted: errors may quote URLs)."""
        from console.core.redact import redact

        for name, error in self.errors.items():
            click.echo(f"trace source {name} failed: {redact(error)}", err=True)


def _trace_sources(fleet: Fleet) -> list[str]:
    from console.plugin_api import Traces

    return [b.name for b in fleet.backends if b.has(Traces)]


@click.command()
@click.argument("function")
@click.option("--errors", is_flag=True, help="Only traces with an error span.")
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=20,
    show_default=True,
    help="Most traces shown.",
)
@click.option(
    "--since", default="1h", show_default=True, help="How far back to search (30m, 1h, 7d)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {traces: [...]}.")
@click.pass_obj
def traces(
    app: AppContext, function: str, errors: bool, limit: int, since: str, as_json: bool
) -> int:
    """Recent traces of FUNCTION (a function id service:operation, or a service name)."""
    from console.config import parse_duration

    service, operation = parse_function(function)
    try:
        window_s = parse_duration(since)
    except ValueError as exc:
        raise UserError(f"--since: {exc}") from None
    if not 0 < window_s <= MAX_SINCE_S:
        raise UserError(f"--since: expected a duration above 0 and at most 400d, got {since!r}")
    now_ns = time.time_ns()
    query = TraceQuery(
        service=service,
        operation=operation,
        errors_only=errors,
        start_ns=now_ns - int(window_s * 1e9),
        end_ns=now_ns,
        limit=limit,
    )
    found, asked = asyncio.run(_search(app, query))
    asked.report()
    if as_json:
        emit_json({"traces": [summary_json(t) for t in found], "errors": asked.errors})
    else:
        render_summaries(found, function, since)
    return 1 if asked.all_failed else 0


@click.command()
@click.argument("trace_id")
@click.option("--json", "as_json", is_flag=True, help="Print the trace as JSON.")
@click.pass_obj
def trace(app: AppContext, trace_id: str, as_json: bool) -> int:
    """One whole trace by id (hex of any case, or base64), with its first error span."""
    try:
        tid = core_traces.trace_id(trace_id)
    except ValueError as exc:
        raise UserError(f"TRACE_ID: {exc}") from None
    found, asked = asyncio.run(_fetch(app, tid))
    asked.report()
    if found is None:
        names = ", ".join(asked.sources) or "no trace source configured"
        click.echo(f"trace {tid} not found (asked: {names})", err=True)
        return 1
    if as_json:
        emit_json({**trace_json(found), "errors": asked.errors})
    else:
        render_trace(found)
    return 0


def render_summaries(found: list[TraceSummary], function: str, since: str) -> None:
    """One line per trace, fitted to the terminal (80 columns when piped): the errors and
    the whole trace id (what ``callboard trace`` takes) always stay; source, span count and
    the date give way first."""
    from rich.text import Text

    from console.commands.tables import Column, console, fitted_table

    out = console()
    if not found:
        out.print(Text(f"no traces for {function} in the last {since}"))
        return
    starts = [iso(t.start_ns)[:-1].replace("T", " ") for t in found]
    columns = [
        Column(
            "start (UTC)",
            list(starts),
            3,
            compact=[s[11:19] for s in starts],  # the time, without date and ms
            compact_header="time UTC",
        ),
        Column(
            "root",
            [f"{t.root_service} {t.root_name}".strip() or "(root not received)" for t in found],
            1,
            cut="text",
            minimum=12,
        ),
        Column(
            "duration",
            [f"{t.duration_ms:.2f}ms" for t in found],
            2,
            justify="right",
            compact=[fmt.duration_ns(int(t.duration_ms * 1e6)) for t in found],
        ),
        Column("spans", [str(t.span_count) for t in found], 4, justify="right"),
        Column(
            "errors",
            [Text(str(t.error_count), style="bold red" if t.error_count else "") for t in found],
            keep=True,
            justify="right",
        ),
        Column("trace id", [t.trace_id for t in found], keep=True),
        Column("source", [t.source for t in found], 5, cut="text"),
    ]
    out.print(fitted_table(columns, out.width))


def render_trace(t: Trace) -> None:
    """The span tree: indented by depth, durations, error spans red, the first error marked.

    One line per span, fitted to the terminal (80 columns when piped): the status message
    is cut first, then the span name, so "◀ first error" always shows."""
    from rich.text import Text

    from console.commands.tables import console

    out = console()
    width = out.width
    summary = core_traces.summarize(t)
    out.print(
        Text.assemble(
            ("trace ", "bold"),
            (t.trace_id, "bold"),
            f"  {summary.span_count} spans  {summary.duration_ms:.2f}ms  ",
            (
                f"{summary.error_count} errors" if summary.error_count else "no errors",
                "bold red" if summary.error_count else "green",
            ),
            f"  from {t.source}",
        ),
        overflow="ellipsis",
        no_wrap=True,
    )
    for w in t.warnings:
        out.print(Text(f"  ! {w}", style="yellow"), overflow="ellipsis", no_wrap=True)
    known = {s.span_id for s in t.spans}
    for span, depth in core_traces.flatten(t.spans):
        out.print(span_line(t, span, depth, known, width), no_wrap=True, overflow="crop")


def span_line(t: Trace, span: Span, depth: int, known: set[str], width: int) -> Text:
    """One span of the tree in ``width`` cells; what gives way: the status message, the
    span name, then the service; the first-error marker never does."""
    from rich.cells import cell_len
    from rich.text import Text

    from console.commands.tables import cut_end

    err = span.status == "error"
    lead = "  " * depth + ("✗ " if err else "  ")
    name = span.name or "(unnamed)"
    service = f"  {span.service}"
    took = f"  {fmt.duration_ns(span.duration_ns)}"
    orphan = "  (parent missing)" if span.parent_id and span.parent_id not in known else ""
    message = f"  {span.status_message}" if err and span.status_message else ""
    marker = "  ◀ first error" if span.span_id == t.first_error_span_id else ""
    room = width - sum(map(cell_len, (lead, took, orphan, marker)))
    # the name, then the service, then the message give way (each keeps a readable stub)
    stub = min(cell_len(message), 14)
    name = cut_end(name, max(min(cell_len(name), 12), room - cell_len(service) - stub))
    room -= cell_len(name)
    service = cut_end(service, max(min(cell_len(service), 8), room - stub))
    room -= cell_len(service)
    message = cut_end(message, max(room, 0))
    line = Text(lead, style="red" if err else "")
    line.append(name, style="bold red" if err else "bold")
    line.append(service, style="cyan")
    line.append(took, style="dim")
    line.append(orphan, style="yellow")
    line.append(message, style="red")
    if line.cell_len + cell_len(marker) > width:  # deeper than the terminal is wide
        line.truncate(max(width - cell_len(marker), 0), overflow="ellipsis")
    if marker:
        line.append(marker, style="bold reverse red")
    return line


COMMANDS = [traces, trace]
