"""The contract between Callboard and its backends.

A plugin is a class registered in the ``callboard.plugins`` entry-point group. Callboard
makes one instance per configured backend: ``cls(name, options, context)``. A plugin says
what it can do by implementing one or more capability protocols below; every method is
async. Errors leave a plugin only as :mod:`console.errors` ``BackendError`` subclasses.

Plugins import only this module (and the model types it re-exports), never the engine or
the TUI.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from console.core.model import (
    ActionPlan,
    ActionRequest,
    ActionResult,
    Alert,
    BackendStatus,
    Deploy,
    FailureMode,
    Function,
    Kind,
    Signals,
    Span,
    Trace,
    TraceQuery,
    TraceSummary,
)
from console.core.redact import clip
from console.errors import (
    ActionError,
    BackendAuthError,
    BackendError,
    BackendUnavailable,
    BadResponse,
)

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ActionError",
    "ActionPlan",
    "ActionRequest",
    "ActionResult",
    "Actions",
    "Alert",
    "Alerts",
    "BackendAuthError",
    "BackendError",
    "BackendStatus",
    "BackendUnavailable",
    "BadResponse",
    "Baselines",
    "Changes",
    "Deploy",
    "FailureMode",
    "Function",
    "Inventory",
    "Kind",
    "MemoryState",
    "Metrics",
    "Plugin",
    "PluginContext",
    "PluginState",
    "Signals",
    "Span",
    "Trace",
    "TraceQuery",
    "TraceSummary",
    "Traces",
    # redact, then cut: a plugin quoting a backend's answer in an error cuts it with this, so a
    # secret the answer echoes is never left half-visible at the cut
    "clip",
]


class PluginState(Protocol):
    """A small persistent key → JSON value store, private to one backend instance."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...

    def delete(self, key: str) -> None: ...


class MemoryState:
    """A PluginState that lives only in memory (tests, one-shot commands with no store)."""

    def __init__(self) -> None:
        self._d: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self._d.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._d[key] = value

    def delete(self, key: str) -> None:
        self._d.pop(key, None)


@dataclass
class PluginContext:
    """What Callboard hands a plugin at construction.

    Attributes:
        http: the one shared ``httpx.AsyncClient`` (explicit timeouts; tests inject a
            ``MockTransport``). Plugins must not create their own clients.
        secret: resolves a secret name to its value (keyring, then environment).
        clock: returns the current time as Unix seconds (tests pass a fixed clock).
        state: persistent per-instance state (the demo keeps applied actions here).
        options: global settings a plugin may read (e.g. ``demo_size``).
    """

    http: httpx.AsyncClient | None
    secret: Callable[[str], str]
    clock: Callable[[], float]
    state: PluginState = field(default_factory=MemoryState)
    options: Mapping[str, Any] = field(default_factory=dict)


class Plugin(Protocol):
    """What every plugin implements."""

    name: str

    async def check(self) -> BackendStatus:
        """Probe the backend. Never raises: failures are reported in the status."""
        ...

    async def aclose(self) -> None:
        """Release resources (the shared HTTP client is closed by Callboard, not here)."""
        ...


@runtime_checkable
class Inventory(Protocol):
    """Lists the functions a backend knows about."""

    async def functions(self) -> list[Function]:
        """Returns: every function this backend knows. Raises: BackendError."""
        ...


@runtime_checkable
class Metrics(Protocol):
    """Measures functions. One batch for the whole fleet: cost must not grow with it."""

    async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
        """Returns: function id → Signals over ``window`` ("5m"). Missing ids mean no data.

        Raises: BackendError.
        """
        ...

    async def series(
        self, function: Function, signal: str, start: float, end: float, step: float
    ) -> list[tuple[float, float]]:
        """Returns: (unix seconds, value) points for one signal of one function; ``[]`` for
        a signal this backend does not keep (not an error: the screen asks every backend for
        every signal it shows). Raises: BackendError when the backend cannot answer."""
        ...


@runtime_checkable
class Traces(Protocol):
    """Finds and fetches traces."""

    async def find_traces(self, query: TraceQuery) -> list[TraceSummary]:
        """Returns: matching traces, newest first. Raises: BackendError."""
        ...

    async def trace(self, trace_id: str) -> Trace | None:
        """Returns: the whole trace, or None when the backend does not have it."""
        ...


@runtime_checkable
class Alerts(Protocol):
    """Reports alerts."""

    async def alerts(self) -> list[Alert]:
        """Returns: active alerts. Raises: BackendError."""
        ...


@runtime_checkable
class Changes(Protocol):
    """Reports deploys and other changes."""

    async def deploys(self, function: Function | None, since: float) -> list[Deploy]:
        """Returns: changes since ``since`` (unix seconds), for one function or all."""
        ...


@runtime_checkable
class Actions(Protocol):
    """Changes production. ``plan`` is a dry run; ``execute`` carries a plan out."""

    actions: ClassVar[frozenset[str]]

    async def plan(self, request: ActionRequest) -> ActionPlan:
        """Returns: exactly what would change. Raises: ActionError for an invalid request."""
        ...

    async def execute(self, plan: ActionPlan) -> ActionResult:
        """Returns: what happened. Raises: ActionError, BackendError."""
        ...


@runtime_checkable
class Baselines(Protocol):
    """Optional: the normal behaviour of each function (e.g. a 7-day view), for diagnosis."""

    async def baselines(self, functions: list[Function]) -> dict[str, Signals]:
        """Returns: function id → Signals describing its normal behaviour."""
        ...
