"""The Jaeger trace source: api_v3 first, the older ``/api/traces`` as a fallback.

Options: ``url`` (the query service, port 16686), optional ``headers``, ``auth``
(``{bearer: TOKEN}`` or ``{basic: …}``, ``{secret: NAME}`` resolved), ``api``
(``auto`` — default —, ``v3`` or ``v1``). In ``auto`` the plugin tries
``/api/v3/trace-summaries`` (Jaeger ≥ 2.19), then ``/api/v3/traces``, then ``/api/traces``,
and remembers the first that exists. api_v3 answers *404 with a JSON error* when nothing
matched; a 404 without one means the endpoint itself is missing (an older Jaeger).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from callboard_jaeger import parse
from console.core import traces
from console.engine.fleet.httpbackend import HTTP_OPTIONS, HttpBackend
from console.plugin_api import (
    BackendStatus,
    BadResponse,
    Option,
    PluginContext,
    Trace,
    TraceQuery,
    TraceSummary,
    check_options,
)

DEFAULT_LOOKBACK_NS = 2 * 24 * 3600 * 10**9  # Jaeger's own default search window


def rfc3339(ns: int) -> str:
    """Unix ns → RFC3339 with nanoseconds, UTC (what api_v3 params take)."""
    secs, frac = divmod(ns, 10**9)
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{frac:09d}Z"


def _no_match(body: bytes) -> bool:
    """api_v3's 'no traces' 404 carries a gRPC-gateway JSON error; a missing route does not."""
    try:
        doc = json.loads(body)
    except ValueError:
        return False
    return isinstance(doc, Mapping) and isinstance(doc.get("error"), Mapping)


class JaegerPlugin:
    """Traces from Jaeger (Traces capability)."""

    OPTIONS: ClassVar[tuple[Option, ...]] = (
        *HTTP_OPTIONS,
        Option("api", "str", "which query API", default="auto", choices=("auto", "v3", "v1")),
    )

    def __init__(self, name: str, options: Mapping[str, Any], ctx: PluginContext) -> None:
        check_options("jaeger", self.OPTIONS, options)
        self.name = name
        self.api = str(options.get("api") or "auto")
        self.backend = HttpBackend(options, ctx.http, ctx.secret)
        self.clock = ctx.clock
        self._search_mode: str | None = {"v1": "v1", "v3": "v3-traces"}.get(self.api)

    async def check(self) -> BackendStatus:
        return await self.backend.probe(
            self.name, "jaeger", "/api/services" if self.api == "v1" else "/api/v3/services"
        )

    async def aclose(self) -> None:
        await self.backend.aclose()

    # -- search --------------------------------------------------------------------------

    def _window(self, query: TraceQuery) -> tuple[int, int]:
        end = query.end_ns if query.end_ns is not None else int(self.clock() * 1e9)
        start = query.start_ns if query.start_ns is not None else end - DEFAULT_LOOKBACK_NS
        return start, end

    def _v3_params(self, query: TraceQuery) -> dict[str, str]:
        start, end = self._window(query)
        params = {
            "query.service_name": query.service,
            "query.start_time_min": rfc3339(start),
            "query.start_time_max": rfc3339(end),
            "query.search_depth": str(max(1, query.limit)),
        }
        if query.operation:
            params["query.operation_name"] = query.operation
        if query.min_duration_ms is not None:
            params["query.duration_min"] = f"{query.min_duration_ms:g}ms"
        if query.errors_only:
            params["query.attributes"] = json.dumps({"error": "true"})
        return params

    async def _v3(self, path: str, params: dict[str, str], parse_fn: Callable[[Any], Any]) -> Any:
        """GET an api_v3 path: the parsed body, [] for 'no match', None when the route is missing."""
        status, body, _ = await self.backend.request("GET", path, params=params, ok=(404,))
        if status == 404:
            return [] if _no_match(body) else None
        return self.backend.parse(parse_fn, body, path)

    async def find_traces(self, query: TraceQuery) -> list[TraceSummary]:
        """Matching traces, newest first (errors-only also filtered here)."""
        modes = [self._search_mode] if self._search_mode else ["v3-summaries", "v3-traces", "v1"]
        for mode in modes:
            found = await self._search(mode, query)
            if found is not None:
                self._search_mode = mode
                rows = [t for t in found if t.error_count or not query.errors_only]
                if query.min_duration_ms is not None:
                    rows = [t for t in rows if t.duration_ms >= query.min_duration_ms]
                rows.sort(key=lambda t: -t.start_ns)
                return rows[: query.limit]
        raise BadResponse(
            f"{self.backend.url} has neither the api_v3 nor the /api/traces search endpoint"
        )

    async def _search(self, mode: str, query: TraceQuery) -> list[TraceSummary] | None:
        if mode == "v3-summaries":
            result: list[TraceSummary] | None = await self._v3(
                "/api/v3/trace-summaries", self._v3_params(query), parse.parse_v3_summaries
            )
            return result
        if mode == "v3-traces":
            found = await self._v3("/api/v3/traces", self._v3_params(query), parse.parse_v3_traces)
            return None if found is None else [traces.summarize(t) for t in found]
        start, end = self._window(query)
        params: dict[str, str] = {
            "service": query.service,
            "start": str(start // 1000),
            "end": str(end // 1000),
            "limit": str(max(1, query.limit)),
        }
        if query.operation:
            params["operation"] = query.operation
        if query.min_duration_ms is not None:
            params["minDuration"] = f"{query.min_duration_ms:g}ms"
        if query.errors_only:
            params["tags"] = json.dumps({"error": "true"})
        status, body, _ = await self.backend.request("GET", "/api/traces", params=params, ok=(404,))
        if status == 404:
            return None if not _no_match_v1(body) else []
        return [
            traces.summarize(t) for t in self._parse(parse.parse_v1_response, body, "/api/traces")
        ]

    def _parse(self, fn: Callable[[Any], list[Trace]], body: bytes, path: str) -> list[Trace]:
        found: list[Trace] = self.backend.parse(fn, body, path)
        return found

    # -- one trace ------------------------------------------------------------------------

    async def trace(self, trace_id: str) -> Trace | None:
        """The whole trace, or None when Jaeger does not have it."""
        tid = traces.trace_id(trace_id)
        fetchers: list[Callable[[], Awaitable[list[Trace] | None]]] = []
        if self.api != "v1":
            fetchers.append(lambda: self._v3(f"/api/v3/traces/{tid}", {}, parse.parse_v3_traces))
        if self.api != "v3":
            fetchers.append(lambda: self._v1_trace(tid))
        for fetch in fetchers:
            found = await fetch()
            if found is not None:
                match = [t for t in found if t.trace_id == tid]
                return match[0] if match else None
        return None

    async def _v1_trace(self, tid: str) -> list[Trace] | None:
        status, body, _ = await self.backend.request("GET", f"/api/traces/{tid}", ok=(404,))
        if status == 404:
            return []
        return self._parse(parse.parse_v1_response, body, f"/api/traces/{tid}")


def _no_match_v1(body: bytes) -> bool:
    """The UI API's 404 is its JSON envelope with ``errors``; a missing route is plain text."""
    try:
        doc = json.loads(body)
    except ValueError:
        return False
    return isinstance(doc, Mapping) and "errors" in doc
