"""The embedded OTLP receiver's store as a trace source and a log source.

The receiver (``callboard otlp serve``, or the TUI) writes spans and log records into
Callboard's SQLite store; this plugin reads them back. The engine hands it the span store
through ``ctx.span_store`` and the log store beside it through ``ctx.log_store`` (the
plugin is then ``local``: healthy without a probe); configured on its own it opens the
store at option ``db`` (default: ``$CALLBOARD_DB``, else Callboard's default database).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any, ClassVar

from console.plugin_api import (
    BackendStatus,
    LogQuery,
    LogRecord,
    LogSource,
    Option,
    PluginContext,
    SpanSource,
    Trace,
    TraceQuery,
    TraceSummary,
    check_options,
)


class OtlpPlugin:
    """Traces and logs received by the embedded OTLP/HTTP receiver (Traces and Logs)."""

    OPTIONS: ClassVar[tuple[Option, ...]] = (
        Option("db", "str", "the database the receiver writes (default: $CALLBOARD_DB)"),
    )

    def __init__(self, name: str, options: Mapping[str, Any], ctx: PluginContext) -> None:
        check_options("otlp", self.OPTIONS, options)
        self.name = name
        source = ctx.span_store
        logs = ctx.log_store
        #: Handed the engine's own span store (the embedded receiver's): local, no probe needed.
        self.local = source is not None
        #: The store this plugin opened itself (closed by aclose); None when handed one.
        self._own_store: Any = None
        if source is None:
            from console import paths
            from console.engine.otlp.spanstore import SpanStore
            from console.engine.store.sqlite import Store

            db = options.get("db") or os.environ.get("CALLBOARD_DB") or paths.default_db()
            self._own_store = Store(str(db))
            source = SpanStore(self._own_store)
        base = self._own_store if self._own_store is not None else getattr(source, "store", None)
        if logs is None and base is not None:
            from console.engine.otlp.logstore import LogStore

            logs = LogStore(base)  # the store the span store uses: logs live beside spans
        self.spans: SpanSource = source
        #: None only when handed a span source with no store of its own (a test double).
        self.log_source: LogSource | None = logs

    async def check(self) -> BackendStatus:
        try:
            n = await asyncio.to_thread(self.spans.count)
        except Exception as exc:  # a broken store file is reported, not raised
            return BackendStatus(self.name, "otlp", ok=False, error=f"span store: {exc}")
        return BackendStatus(
            self.name, "otlp", ok=True, warnings=() if n else ("no spans received yet",)
        )

    async def aclose(self) -> None:
        """Close the store this plugin opened (never the engine's, which it only borrows)."""
        if self._own_store is not None:
            self._own_store.close()
            self._own_store = None

    async def find_traces(self, query: TraceQuery) -> list[TraceSummary]:
        """Stored traces with a span of the queried service, newest first."""
        return await asyncio.to_thread(self.spans.find_traces, query)

    async def trace(self, trace_id: str) -> Trace | None:
        """The stored trace, or None."""
        return await asyncio.to_thread(self.spans.trace, trace_id)

    async def logs(self, query: LogQuery) -> list[LogRecord]:
        """Stored log records matching ``query``, newest first."""
        if self.log_source is None:
            return []
        return await asyncio.to_thread(self.log_source.logs, query)
