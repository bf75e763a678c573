"""One configured backend instance as the engine sees it, and deploys keyed by function."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from console.core.model import Deploy, Function
from console.engine.fleet import resilience
from console.plugin_api import Located, Plugin

C = TypeVar("C")

#: The breaker keys of the calls a refresh makes (the others are on demand).
REFRESH_CALLS = frozenset({"functions", "signals", "baselines", "deploys", "alerts", "check"})


@dataclass
class Backend:
    """One configured backend instance and what the engine knows about its health."""

    name: str
    plugin_name: str
    plugin: Plugin
    #: Consecutive failures of one capability before its circuit opens, and for how long.
    breaker_threshold: int = 3
    breaker_cooldown: float = 30.0
    breakers: dict[str, resilience.CircuitBreaker] = field(default_factory=dict)
    #: Budget of each of this backend's calls, retries included (None: the fleet's default).
    timeout: float | None = None
    last_ok: float | None = None
    last_error: str | None = None
    latency_ms: float | None = None
    warnings: tuple[str, ...] = ()
    cache: dict[str, Any] = field(default_factory=dict)
    cache_at: dict[str, float] = field(default_factory=dict)
    #: When check() last ran (only for backends no refresh calls); None: never.
    checked_at: float | None = None

    def has(self, capability: type) -> bool:
        """Whether the plugin implements ``capability`` (a protocol of the plugin API)."""
        return isinstance(self.plugin, capability)

    def cap(self, capability: type[C]) -> C:
        """The plugin as ``capability``, for a caller that chose this backend for it.

        Raises:
            TypeError: the plugin does not implement it (a caller's bug, not a backend's).
        """
        plugin = self.plugin
        if not isinstance(plugin, capability):
            raise TypeError(f"backend {self.name!r} is not a {capability.__name__}")
        return plugin

    def breaker(self, key: str, clock: Callable[[], float]) -> resilience.CircuitBreaker:
        """The circuit breaker of one capability (each fails and recovers on its own)."""
        b = self.breakers.get(key)
        if b is None:
            b = self.breakers[key] = resilience.CircuitBreaker(
                self.breaker_threshold, self.breaker_cooldown, clock
            )
        return b

    @property
    def url(self) -> str | None:
        """Where this backend lives (see ``plugin_api.Located``), for error text; None for
        a backend that is not reached over HTTP."""
        plugin = self.plugin
        if isinstance(plugin, Located) and isinstance(plugin.url, str) and plugin.url:
            return plugin.url
        return None

    def failing(self) -> tuple[str, float | None] | None:
        """While the backend fails: the first error of this run of failures and when it
        happened (the fleet's clock; None when unknown), or None while it is ok.

        The breakers keep that first error, so it outlives "circuit open" messages.
        """
        if self.last_error is None:
            return None
        # Only what each refresh calls: an on-demand call (traces, series) that failed once
        # and is not retried would otherwise date a later failure from long ago.
        runs = [
            b
            for key, b in self.breakers.items()
            if key in REFRESH_CALLS and b.failures and b.failing_since is not None
        ]
        if not runs:
            return self.last_error, None
        first = min(runs, key=lambda b: b.failing_since or 0.0)
        return first.first_error or self.last_error, first.failing_since


def deploys_by_function(
    deploys: Iterable[Deploy], functions: Iterable[Function]
) -> dict[str, list[Deploy]]:
    """Deploys keyed by function id, newest first. A deploy naming a service (not one
    function) concerns every function of that service."""
    ids: set[str] = set()
    by_service: dict[str, list[str]] = {}
    for f in functions:
        ids.add(f.id)
        by_service.setdefault(f.service, []).append(f.id)
    out: dict[str, list[Deploy]] = {}
    for d in deploys:
        targets = [d.function_id] if d.function_id in ids else by_service.get(d.function_id, [])
        for fid in targets:
            out.setdefault(fid, []).append(d)
    for lst in out.values():
        lst.sort(key=lambda d: d.at, reverse=True)
    return out
