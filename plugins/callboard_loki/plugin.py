"""Grafana Loki as a log source: ``GET /loki/api/v1/query_range`` with LogQL from labels.

A query by service becomes ``{service_name="checkout"}`` (the label is ``service_label``;
``labels`` adds fixed matchers such as ``{namespace: prod}``); a trace or span id adds
``| trace_id="…"`` — a structured-metadata match, where Loki's OTLP ingestion puts the ids
— or, with ``trace_match: line``, a line filter ``|= "…"`` for logs that only print it.
``errors`` adds a match on ``level_field``. Start and end are Unix nanoseconds,
``direction=backward`` and ``limit`` the query's, so the newest records come back. The
request asks for ``categorize-labels`` (Loki 3), so structured metadata comes apart from
the stream labels; an older Loki folds it into them and is read the same.

Options: ``url`` (port 3100), ``tenant`` (sent as ``X-Scope-OrgID``), ``auth``,
``headers``, and the label mapping above. Every call runs under the backend's timeout and
breaker (the fleet's resilience); an answer that is not what Loki documents is a
``BadResponse``; one over ``max_response_bytes`` is refused while it is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from callboard_loki import parse
from console.engine.fleet.httpbackend import HTTP_OPTIONS, HttpBackend
from console.errors import ConfigError
from console.plugin_api import (
    BackendStatus,
    LogQuery,
    LogRecord,
    Option,
    PluginContext,
    check_options,
)

QUERY_RANGE = "/loki/api/v1/query_range"
#: How far back a query with no ``since`` looks (Loki's own default is one hour too).
DEFAULT_LOOKBACK_NS = 3600 * 10**9
#: A trace or span query with no time range looks this far back (a trace is recent).
TRACE_LOOKBACK_NS = 24 * 3600 * 10**9


class LokiPlugin:
    """Log records from Grafana Loki (Logs capability)."""

    OPTIONS: ClassVar[tuple[Option, ...]] = (
        *HTTP_OPTIONS,
        Option("tenant", "str", "the tenant, sent as X-Scope-OrgID"),
        Option(
            "service_label",
            "str",
            "the stream label holding service.name",
            default="service_name",
        ),
        Option("labels", "dict", "fixed label matchers added to every query, e.g. {env: prod}"),
        Option(
            "trace_id_field",
            "str",
            "the structured metadata (or label) holding the trace id",
            default="trace_id",
        ),
        Option(
            "span_id_field",
            "str",
            "the structured metadata (or label) holding the span id",
            default="span_id",
        ),
        Option(
            "level_field",
            "str",
            "the structured metadata (or label) holding the severity text",
            default="severity_text",
        ),
        Option(
            "trace_match",
            "str",
            "find a trace by its metadata field, or by a line filter on the id",
            default="metadata",
            choices=("metadata", "line"),
        ),
    )

    def __init__(self, name: str, options: Mapping[str, Any], ctx: PluginContext) -> None:
        check_options("loki", self.OPTIONS, options)
        self.name = name
        opts = dict(options)
        headers = dict(opts.get("headers") or {})
        if opts.get("tenant"):
            headers["X-Scope-OrgID"] = str(opts["tenant"])
        headers.setdefault("Accept", "application/json")
        headers.setdefault("X-Loki-Response-Encoding-Flags", "categorize-labels")
        opts["headers"] = headers
        labels = opts.get("labels") or {}
        if not isinstance(labels, Mapping):
            raise ConfigError("labels: expected a mapping of label name to value")
        try:
            self.mapping = parse.LabelMap(
                service_label=parse.label_name(
                    str(opts.get("service_label") or "service_name"), "service_label"
                ),
                trace_id_field=parse.label_name(
                    str(opts.get("trace_id_field") or "trace_id"), "trace_id_field"
                ),
                span_id_field=parse.label_name(
                    str(opts.get("span_id_field") or "span_id"), "span_id_field"
                ),
                level_field=parse.label_name(
                    str(opts.get("level_field") or "severity_text"), "level_field"
                ),
                trace_match=str(opts.get("trace_match") or "metadata"),
                labels={parse.label_name(str(k), "labels"): str(v) for k, v in labels.items()},
            )
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        self.backend = HttpBackend(opts, ctx.http, ctx.secret)
        self.url = self.backend.url
        self.clock = ctx.clock

    async def check(self) -> BackendStatus:
        """Loki answers its labels endpoint (authenticated, as queries are)."""
        return await self.backend.probe(self.name, "loki", "/loki/api/v1/labels")

    async def aclose(self) -> None:
        await self.backend.aclose()

    async def logs(self, query: LogQuery) -> list[LogRecord]:
        """The newest records matching ``query``, newest first; ``[]`` for a query that
        names neither a service nor a trace or span id."""
        try:
            text = parse.logql(query, self.mapping)
        except ValueError:
            return []  # an id that is not hex: no record can carry it
        if text is None:
            return []
        end = query.until_ns if query.until_ns is not None else int(self.clock() * 1e9)
        lookback = TRACE_LOOKBACK_NS if (query.trace_id or query.span_id) else DEFAULT_LOOKBACK_NS
        start = query.since_ns if query.since_ns is not None else end - lookback
        params = {
            "query": text,
            "start": str(start),
            "end": str(end + 1),  # Loki's end is exclusive; the query's is inclusive
            "limit": str(max(1, min(query.limit, parse.MAX_RECORDS))),
            "direction": "backward",
        }
        _, body, _ = await self.backend.request("GET", QUERY_RANGE, params=params)
        records: list[LogRecord] = await self.backend.aparse(
            parse.parse_query_range, body, QUERY_RANGE, self.mapping, self.name
        )
        if query.errors_only:
            records = [r for r in records if r.is_error]
        return records[: query.limit]
