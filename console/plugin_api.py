"""The contract between Callboard and its backends.

A plugin is a class registered in the ``callboard.plugins`` entry-point group. Callboard
makes one instance per configured backend: ``cls(name, options, context)``. A plugin says
what it can do by implementing one or more capability protocols below; every method is
async. Errors leave a plugin only as :mod:`console.errors` ``BackendError`` subclasses.

Everything the engine reads from a plugin is declared here, and read only through these
protocols (``isinstance`` against a runtime-checkable protocol): the capabilities
(:class:`Inventory`, :class:`Metrics`, :class:`Traces`, :class:`Logs`, :class:`Alerts`,
:class:`Changes`, :class:`Actions`, :class:`Annotations`, :class:`Query`, :class:`Baselines`)
and the optional traits (:class:`Health`, :class:`Warned`, :class:`Local`, :class:`Located`). What a plugin
does not implement has the default its protocol documents. Each plugin class declares
its config keys once, in ``OPTIONS`` (see :class:`Option`); Callboard checks a backend's
keys against them, with ``file:line``, before the plugin is built.

Plugins import only this module (and the model types it re-exports), never the engine or
the TUI.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from console.core.gcpause import gc_paused
from console.core.logmodel import LogQuery, LogRecord
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
from console.core.options import COMMON_OPTIONS, Option, OptionError, check_options
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
    "COMMON_OPTIONS",
    "ActionError",
    "ActionPlan",
    "ActionRequest",
    "ActionResult",
    "Actions",
    "Alert",
    "Alerts",
    "Annotations",
    "BackendAuthError",
    "BackendError",
    "BackendStatus",
    "BackendUnavailable",
    "BadResponse",
    "Baselines",
    "Changes",
    "Deploy",
    "Discovers",
    "FailureMode",
    "Function",
    "Health",
    "HealthSource",
    "Inventory",
    "Kind",
    "Local",
    "Located",
    "LogQuery",
    "LogRecord",
    "LogSource",
    "Logs",
    "MemoryState",
    "Metrics",
    "Option",
    "OptionError",
    "Plugin",
    "PluginContext",
    "PluginState",
    "Probed",
    "Query",
    "Signals",
    "Span",
    "SpanSource",
    "Trace",
    "TraceQuery",
    "TraceSummary",
    "Traces",
    "Warned",
    "check_options",
    # redact, then cut: a plugin quoting a backend's answer in an error cuts it with this, so a
    # secret the answer echoes is never left half-visible at the cut
    "clip",
    "gc_paused",
    "is_local",
    "options_of",
    "warnings_of",
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


class SpanSource(Protocol):
    """The embedded OTLP receiver's span store, as a trace source reads it."""

    def find_traces(self, query: TraceQuery) -> list[TraceSummary]: ...

    def trace(self, trace_id: str) -> Trace | None: ...

    def count(self) -> int: ...


class HealthSource(Protocol):
    """The embedded OTLP receiver's function-health tallies (metrics and spans), as the
    ``otlp`` plugin reads them (``console.engine.otlp.health.HealthStore``)."""

    def functions(self) -> list[Function]: ...

    def signals(
        self, window: str = "5m", windows: Sequence[str] = (), wanted: Sequence[str] | None = None
    ) -> dict[str, Signals]: ...

    def series(
        self, function_id: str, signal: str, start: float, end: float, step: float
    ) -> list[tuple[float, float]]: ...


class LogSource(Protocol):
    """The embedded OTLP receiver's log store, as a log source reads it."""

    def logs(self, query: LogQuery) -> list[LogRecord]: ...

    def count(self) -> int: ...


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
        span_store: the embedded OTLP receiver's span store, handed to the ``otlp`` plugin
            the engine adds as the first trace source; None for every other backend.
        health_store: the same receiver's function-health tallies, handed to that plugin
            with the span store; None for every other backend.
        log_store: the embedded receiver's log store (beside the span store), handed to
            the same ``otlp`` plugin; None for every other backend.
    """

    http: httpx.AsyncClient | None
    secret: Callable[[str], str]
    clock: Callable[[], float]
    state: PluginState = field(default_factory=MemoryState)
    options: Mapping[str, Any] = field(default_factory=dict)
    span_store: SpanSource | None = None
    health_store: HealthSource | None = None
    log_store: LogSource | None = None


@runtime_checkable
class Plugin(Protocol):
    """What every plugin implements.

    A plugin class declares its config keys once, ``OPTIONS: ClassVar[tuple[Option, ...]]``
    (see :mod:`console.core.options`): Callboard checks a backend's keys against them, with
    ``file:line``, before building it, and the plugin calls :func:`check_options` first in
    its constructor. A plugin without ``OPTIONS`` gets its keys unchecked.
    """

    async def aclose(self) -> None:
        """Release resources (the shared HTTP client is closed by Callboard, not here)."""
        ...


def options_of(cls: type) -> tuple[Option, ...] | None:
    """The options a plugin class declares, or None when it declares none (its keys then
    go to it unchecked, as a third-party plugin written before ``OPTIONS`` expects)."""
    for klass in cls.__mro__:
        declared = vars(klass).get("OPTIONS")
        if declared is not None:
            return tuple(o for o in declared if isinstance(o, Option))
    return None


@runtime_checkable
class Health(Protocol):
    """Optional: a probe of the backend. Without one, a backend no refresh calls has an
    unknown health (said so in its status)."""

    async def check(self) -> BackendStatus:
        """Probe the backend. Never raises: failures are reported in the status."""
        ...


@runtime_checkable
class Warned(Protocol):
    """Optional: notes the last call left (a query that matched nothing, a catalog entry
    skipped), shown under the backend's status. Default: none."""

    warnings: Sequence[str]


def warnings_of(plugin: object) -> tuple[str, ...]:
    """The plugin's current warnings; ``()`` for a plugin that keeps none."""
    return tuple(plugin.warnings) if isinstance(plugin, Warned) and plugin.warnings else ()


@runtime_checkable
class Local(Protocol):
    """Optional: ``local`` true says the plugin reads Callboard's own data (the embedded
    span store), so it is healthy without a probe. Default: false."""

    local: bool


def is_local(plugin: object) -> bool:
    """Whether the plugin says it is local (see :class:`Local`)."""
    return isinstance(plugin, Local) and plugin.local is True


@runtime_checkable
class Located(Protocol):
    """Optional: where the backend lives, for error text. Default: nowhere (not reached
    over HTTP)."""

    url: str


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
class Logs(Protocol):
    """Finds log records (the embedded store, Loki)."""

    async def logs(self, query: LogQuery) -> list[LogRecord]:
        """Returns: the newest records matching ``query``, at most ``query.limit``, newest
        first; ``[]`` for a query this source cannot express (say, no service and no trace
        id). Every string already sanitised. Raises: BackendError (BadResponse for an
        answer that is not what the source documents)."""
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
class Annotations(Protocol):
    """Posts what happens in an incident to a dashboard (Grafana annotations).

    ``auto_annotate`` true: every incident status change and every runbook action taken
    during an incident is posted (best effort; the engine calls ``annotate`` with the
    backend's timeout and circuit breaker). False: the capability is only used on request.
    """

    auto_annotate: bool

    async def annotate(
        self, text: str, *, incident_id: str, function_id: str, tags: Sequence[str]
    ) -> ActionResult:
        """Post one annotation. Returns: what happened (``ok`` false: not posted).

        Raises: ActionError for a bad annotation, BackendError when the dashboard fails.
        """
        ...


@runtime_checkable
class Query(Protocol):
    """Answers a query in the backend's own language (PromQL) with one number — what a
    runbook's ``expect: {query: ...}`` compares."""

    async def query_scalar(self, query: str) -> float | None:
        """Returns: the query's single value now; None when it has no data (no series,
        NaN). Raises: BadResponse when the answer is not one number (several series, a
        bad query), BackendError when the backend fails."""
        ...


@runtime_checkable
class Probed(Protocol):
    """Optional: queries of the user's own that ``callboard check --probe`` runs once."""

    async def custom_queries(self, window: str) -> list[tuple[str, str]]:
        """Returns: each configured query as ``(key, query text)``, filled for ``window``."""
        ...

    async def count_series(self, query: str) -> int:
        """Returns: how many series ``query`` returns now. Raises: BackendError."""
        ...


@runtime_checkable
class Discovers(Protocol):
    """Optional: what the backend finds about its own conventions (``callboard discover``)."""

    async def discover_report(self) -> dict[str, Any]:
        """Returns: a JSON-able report (jobs, conventions, the config pinning them).

        Raises: BackendError.
        """
        ...


@runtime_checkable
class Baselines(Protocol):
    """Optional: the normal behaviour of each function (e.g. a 7-day view), for diagnosis."""

    async def baselines(self, functions: list[Function]) -> dict[str, Signals]:
        """Returns: function id → Signals describing its normal behaviour."""
        ...
