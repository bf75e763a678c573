# mypy: disable-error-code="type-abstract"
# (Backend.cap takes a capability protocol: mypy#4717 flags passing one as type[C])
"""Log records on demand: every log source asked at once, merged newest first.

A mixin of :class:`console.engine.fleet.Fleet`, like :mod:`ondemand`: each call goes
through the fleet's ``_call`` (the backend's timeout, retries and breaker, and the model's
edge — every string sanitised) without caching. A source that fails is skipped and named
in ``log_errors``; the others still answer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from console.core.logmodel import LogQuery, LogRecord
from console.engine.fleet.backend import Backend
from console.engine.fleet.ondemand import ask_every
from console.plugin_api import Logs


class LogsOnDemand:
    """``find_logs``: one query to every backend with the Logs capability."""

    log_errors: dict[str, str]
    _call: Callable[..., Any]
    _capable: Callable[[type], list[Backend]]

    def log_sources(self) -> list[str]:
        """The names of the backends that answer log queries, in order."""
        return [b.name for b in self._capable(Logs)]

    async def find_logs(self, query: LogQuery) -> list[LogRecord]:
        """The newest ``query.limit`` records of every source, newest first (duplicates —
        the same record from two sources — kept once)."""
        answers, self.log_errors = await ask_every(
            self._call, self._capable(Logs), "logs", lambda b: partial(b.cap(Logs).logs, query)
        )
        found: dict[tuple[int, str, str, str], LogRecord] = {}
        for r in answers:
            for rec in r or ():
                if isinstance(rec, LogRecord):
                    found.setdefault(rec.key(), rec)
        merged = sorted(found.values(), key=lambda rec: rec.time_ns, reverse=True)
        return merged[: max(1, query.limit)]
