"""The embedded OTLP receiver's store as a trace source, a log source and a source of
function health.

The receiver (``callboard otlp serve``, or the TUI) writes spans, log records, and
per-function tallies of the metrics and SERVER/CONSUMER spans it gets, into Callboard's
local SQLite store; this plugin reads them back: traces (Traces), logs (Logs), the functions
seen (Inventory) and their signals with burn-rate windows (Metrics; see
``console/engine/otlp/health.py``). The engine hands it the span store through
``ctx.span_store``, the log store beside it through ``ctx.log_store`` and the tallies through
``ctx.health_store`` (the plugin is then ``local``: healthy without a probe); configured on
its own it opens the store at option ``db`` (default: ``$CALLBOARD_DB``, else Callboard's
default database).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any, ClassVar

from console.core.model import BURN_WINDOWS
from console.plugin_api import (
    BackendStatus,
    Function,
    HealthSource,
    LogQuery,
    LogRecord,
    LogSource,
    Option,
    PluginContext,
    Signals,
    SpanSource,
    Trace,
    TraceQuery,
    TraceSummary,
    check_options,
)


class OtlpPlugin:
    """What the embedded OTLP/HTTP receiver got: traces, logs, functions and their signals."""

    OPTIONS: ClassVar[tuple[Option, ...]] = (
        Option("db", "str", "the database the receiver writes (default: $CALLBOARD_DB)"),
    )

    def __init__(self, name: str, options: Mapping[str, Any], ctx: PluginContext) -> None:
        check_options("otlp", self.OPTIONS, options)
        self.name = name
        source = ctx.span_store
        health = ctx.health_store
        logs = ctx.log_store
        #: Handed the engine's own span store (the embedded receiver's): local, no probe needed.
        self.local = source is not None
        #: The store this plugin opened itself (closed by aclose); None when handed one.
        self._own_store: Any = None
        if source is None:
            from console import paths
            from console.engine.otlp.spanstore import SpanStore
            from console.engine.store.sqlite import Store

            # a team store's URL in CALLBOARD_DB: spans stay in this machine's file
            db = options.get("db") or paths.local_db(os.environ.get("CALLBOARD_DB"))
            from console.engine.otlp.health import HealthStore

            self._own_store = Store(str(db))
            source = SpanStore(self._own_store)
            if health is None:
                health = HealthStore(self._own_store, clock=ctx.clock)
        base = self._own_store if self._own_store is not None else getattr(source, "store", None)
        if logs is None and base is not None:
            from console.engine.otlp.logstore import LogStore

            logs = LogStore(base)  # the store the span store uses: logs live beside spans
        self.spans: SpanSource = source
        #: None only when handed a span source with no store of its own (a test double).
        self.log_source: LogSource | None = logs
        #: None: handed a span store alone (no functions, no signals)
        self.health: HealthSource | None = health

    async def check(self) -> BackendStatus:
        try:
            n = await asyncio.to_thread(self.spans.count)
        except Exception as exc:  # a broken store file is reported, not raised
            return BackendStatus(self.name, "otlp", ok=False, error=f"span store: {exc}")
        return BackendStatus(
            self.name, "otlp", ok=True, warnings=() if n else ("no spans received yet",)
        )

    async def functions(self) -> list[Function]:
        """The functions the receiver has seen in metrics or spans (see the naming rule in
        ``console/core/red.py``)."""
        if self.health is None:
            return []
        return await asyncio.to_thread(self.health.functions)

    async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
        """Signals over ``window`` with burn-rate windows, for the functions the receiver
        has data about: three queries, whatever their number."""
        if self.health is None:
            return {}
        windows = list(BURN_WINDOWS)
        for f in functions:
            if f.slo.window not in windows:
                windows.append(f.slo.window)
        ids = [f.id for f in functions]
        return await asyncio.to_thread(self.health.signals, window, windows, ids)

    async def series(
        self, function: Function, signal: str, start: float, end: float, step: float
    ) -> list[tuple[float, float]]:
        """A signal's history over the last hour, from the minute tallies (``[]`` beyond
        them or for a signal OTLP does not give)."""
        if self.health is None:
            return []
        return await asyncio.to_thread(self.health.series, function.id, signal, start, end, step)

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
