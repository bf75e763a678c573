"""The Grafana Tempo trace source: TraceQL search and ``/api/v2/traces/{id}``.

Options: ``url`` (port 3200), optional ``tenant`` (sent as ``X-Scope-OrgID``), ``headers``,
``auth`` (``{bearer: TOKEN}`` or ``{basic: …}``, ``{secret: NAME}`` resolved). Tempo older
than v2 trace-by-id is served through ``/api/traces/{id}`` when the v2 route is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from callboard_tempo import parse
from console.core import traces
from console.engine.fleet.httpbackend import HTTP_OPTIONS, HttpBackend
from console.plugin_api import (
    BackendStatus,
    Option,
    PluginContext,
    Trace,
    TraceQuery,
    TraceSummary,
    check_options,
)


class TempoPlugin:
    """Traces from Grafana Tempo (Traces capability)."""

    OPTIONS: ClassVar[tuple[Option, ...]] = (
        *HTTP_OPTIONS,
        Option("tenant", "str", "the tenant, sent as X-Scope-OrgID"),
    )

    def __init__(self, name: str, options: Mapping[str, Any], ctx: PluginContext) -> None:
        check_options("tempo", self.OPTIONS, options)
        self.name = name
        opts = dict(options)
        headers = dict(opts.get("headers") or {})
        if opts.get("tenant"):
            headers["X-Scope-OrgID"] = str(opts["tenant"])
        headers.setdefault("Accept", "application/json")
        opts["headers"] = headers
        self.backend = HttpBackend(opts, ctx.http, ctx.secret)
        self.clock = ctx.clock

    async def check(self) -> BackendStatus:
        return await self.backend.probe(self.name, "tempo", "/api/echo")

    async def aclose(self) -> None:
        await self.backend.aclose()

    async def find_traces(self, query: TraceQuery) -> list[TraceSummary]:
        """Matching traces, newest first."""
        params = {
            "q": parse.traceql(
                query.service, query.operation, query.errors_only, query.min_duration_ms
            ),
            "limit": str(max(1, query.limit)),
        }
        if query.start_ns is not None or query.end_ns is not None:
            end = query.end_ns if query.end_ns is not None else int(self.clock() * 1e9)
            start = query.start_ns if query.start_ns is not None else end - 3600 * 10**9
            params["start"] = str(start // 10**9)
            params["end"] = str(-(-end // 10**9))  # round up: Tempo takes whole seconds
        _, body, _ = await self.backend.request("GET", "/api/search", params=params)
        rows: list[TraceSummary] = self.backend.parse(parse.parse_search, body, "/api/search")
        rows.sort(key=lambda t: -t.start_ns)
        return rows[: query.limit]

    async def trace(self, trace_id: str) -> Trace | None:
        """The whole trace, or None when Tempo does not have it."""
        tid = traces.trace_id(trace_id)
        for path in (f"/api/v2/traces/{tid}", f"/api/traces/{tid}"):
            status, body, _ = await self.backend.request("GET", path, ok=(404,))
            if status == 404:
                if b"page not found" in body.lower():
                    continue  # this Tempo has no such route: try the older one
                return None
            found: Trace | None = self.backend.parse(parse.parse_trace, body, path, tid)
            return found
        return None
