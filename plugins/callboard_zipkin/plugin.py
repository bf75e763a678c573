"""The Zipkin trace source: ``/api/v2/traces`` and ``/api/v2/trace/{id}``.

Options: ``url`` (port 9411), optional ``headers`` and ``auth`` (``{bearer: TOKEN}`` or
``{basic: …}``, ``{secret: NAME}`` resolved). Zipkin takes ``endTs``/``lookback`` in
**milliseconds** and durations in **microseconds**.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from callboard_zipkin import parse
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

DEFAULT_LOOKBACK_MS = 24 * 3600 * 1000  # Zipkin's own default


class ZipkinPlugin:
    """Traces from Zipkin (Traces capability)."""

    OPTIONS: ClassVar[tuple[Option, ...]] = (*HTTP_OPTIONS,)

    def __init__(self, name: str, options: Mapping[str, Any], ctx: PluginContext) -> None:
        check_options("zipkin", self.OPTIONS, options)
        self.name = name
        self.backend = HttpBackend(options, ctx.http, ctx.secret)
        self.clock = ctx.clock

    async def check(self) -> BackendStatus:
        return await self.backend.probe(self.name, "zipkin", "/api/v2/services")

    async def aclose(self) -> None:
        await self.backend.aclose()

    async def find_traces(self, query: TraceQuery) -> list[TraceSummary]:
        """Matching traces, newest first."""
        end_ms = (query.end_ns // 10**6) if query.end_ns is not None else int(self.clock() * 1000)
        lookback = (
            DEFAULT_LOOKBACK_MS
            if query.start_ns is None
            else max(1, end_ms - query.start_ns // 10**6)
        )
        params = {
            "serviceName": query.service,
            "endTs": str(end_ms),
            "lookback": str(lookback),
            "limit": str(max(1, query.limit)),
        }
        if query.operation:
            params["spanName"] = query.operation.lower()  # Zipkin lower-cases span names
        if query.errors_only:
            params["annotationQuery"] = "error"
        if query.min_duration_ms is not None:
            params["minDuration"] = str(int(query.min_duration_ms * 1000))
        _, body, _ = await self.backend.request("GET", "/api/v2/traces", params=params)
        found: list[Trace] = self.backend.parse(parse.parse_traces, body, "/api/v2/traces")
        rows = [traces.summarize(t) for t in found]
        if query.errors_only:
            rows = [r for r in rows if r.error_count]
        rows.sort(key=lambda t: -t.start_ns)
        return rows[: query.limit]

    async def trace(self, trace_id: str) -> Trace | None:
        """The whole trace, or None when Zipkin does not have it (404)."""
        tid = traces.trace_id(trace_id)
        # A 64-bit id is sent in its 16-hex form, which every Zipkin accepts.
        wire = tid[16:] if tid.startswith("0" * 16) else tid
        status, body, _ = await self.backend.request("GET", f"/api/v2/trace/{wire}", ok=(404,))
        if status == 404:
            return None
        found: Trace | None = self.backend.parse(parse.parse_trace, body, f"/api/v2/trace/{wire}")
        return found
