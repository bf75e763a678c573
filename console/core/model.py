"""The domain model: plain, immutable data shared by every layer.

Nothing here does I/O. Every measurement is optional: ``None`` means *no data* and is
shown as such; it is never silently turned into 0 or 100%.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from console.core.fastinit import fast_init


class Kind(StrEnum):
    """What sort of function this is."""

    HTTP = "http"
    RPC = "rpc"
    SERVERLESS = "serverless"
    WORKER = "worker"
    JOB = "job"


class Severity(StrEnum):
    """How loudly a finding or alert asks for attention (page > ticket > info)."""

    PAGE = "page"
    TICKET = "ticket"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"page": 0, "ticket": 1, "info": 2}[self.value]


class FailureMode(StrEnum):
    """The ten failure modes Callboard classifies into (F1–F10)."""

    F1 = "F1"
    F2 = "F2"
    F3 = "F3"
    F4 = "F4"
    F5 = "F5"
    F6 = "F6"
    F7 = "F7"
    F8 = "F8"
    F9 = "F9"
    F10 = "F10"

    @property
    def label(self) -> str:
        """The human name: "Timeout", "Retry storm", ..."""
        return FAILURE_MODE_NAMES[self]


FAILURE_MODE_NAMES: dict[FailureMode, str] = {
    FailureMode.F1: "Timeout",
    FailureMode.F2: "Throttling",
    FailureMode.F3: "Retry storm",
    FailureMode.F4: "Cold start",
    FailureMode.F5: "Partial failure",
    FailureMode.F6: "Authentication error",
    FailureMode.F7: "Resource exhaustion",
    FailureMode.F8: "Serialization error",
    FailureMode.F9: "Dependency outage",
    FailureMode.F10: "Cost runaway",
}

#: The burn-rate windows the SRE Workbook alerting tiers use, plus the SLO window itself.
BURN_WINDOWS: tuple[str, ...] = ("5m", "30m", "1h", "6h", "3d")


@dataclass(frozen=True, slots=True)
class SLO:
    """A service level objective: the success fraction promised over ``window``."""

    objective: float = 0.999
    window: str = "30d"
    #: Optional latency objective (p99 in milliseconds) used by the timeout rule.
    latency_p99_ms: float | None = None


@fast_init  # made by the ten thousand: see console.core.fastinit
@dataclass(frozen=True, slots=True)
class Function:
    """One function of the fleet: an HTTP endpoint, an RPC, a serverless handler, a worker."""

    id: str
    service: str
    operation: str = ""
    kind: Kind = Kind.HTTP
    owner: str | None = None
    oncall: str | None = None
    tier: int | None = None
    slo: SLO = field(default_factory=SLO)
    runbooks: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    #: Which backend instance first reported this function.
    source: str = ""
    #: The system it belongs to and its lifecycle stage (a catalog's ``spec.system`` and
    #: ``spec.lifecycle``); None when no source says.
    system: str | None = None
    lifecycle: str | None = None

    @staticmethod
    def make_id(service: str, operation: str = "") -> str:
        """The stable id: ``service:operation``, or just ``service``."""
        return f"{service}:{operation}" if operation else service


@fast_init  # two per function per refresh: see console.core.fastinit
@dataclass(frozen=True, slots=True)
class Signals:
    """Measurements for one function over one window. Every field is optional.

    Rates are fractions of traffic in 0..1; latencies are milliseconds; ``rate_rps`` is
    requests per second. ``error_ratio`` maps a burn-rate window ("5m", "1h", ...) to the
    fraction of requests in that window that counted against the SLO.
    """

    rate_rps: float | None = None
    success_rate: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    # Error rates by class, each a fraction of all requests.
    error_5xx_rate: float | None = None
    timeout_rate: float | None = None
    throttle_rate: float | None = None
    auth_error_rate: float | None = None
    serialization_error_rate: float | None = None
    retry_rate: float | None = None
    cold_start_rate: float | None = None
    cpu: float | None = None
    memory: float | None = None
    queue_length: float | None = None
    cost_per_1k: float | None = None
    availability: float | None = None
    #: Error ratio per burn window (keys from BURN_WINDOWS and the SLO window).
    error_ratio: Mapping[str, float] = field(default_factory=dict)
    #: Requests observed per window, for the minimum-traffic guard.
    requests: Mapping[str, float] = field(default_factory=dict)
    #: Fraction of downstream calls failing, per dependency id (F9 evidence).
    dependency_errors: Mapping[str, float] = field(default_factory=dict)
    #: Fraction of instances/shards failing while others succeed (F5 evidence).
    failing_instances: float | None = None
    #: Latency fields ("p99_ms", ...) whose value is only a lower bound: the quantile fell
    #: beyond the histogram's highest finite bucket, so the true value is at least this.
    latency_capped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    """A failure mode detected on a function, with the numbers that triggered it."""

    function_id: str
    mode: FailureMode
    severity: Severity
    evidence: str
    values: Mapping[str, float] = field(default_factory=dict)
    runbooks: tuple[str, ...] = ()
    #: Named facts from the evidence a runbook param can be prefilled from
    #: (``from: evidence.dependency``): e.g. F9's ``dependency`` is the failing one.
    facts: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.mode.label


@dataclass(frozen=True, slots=True)
class Alert:
    """A firing (or silenced) alert, attached to a function when labels match.

    ``state`` is ``firing``, ``silenced`` (a silence mutes it: ``silenced_until`` and
    ``silence_ids`` say which), ``inhibited`` (another alert mutes it) or ``suppressed``
    (muted, the backend does not say by what).
    """

    name: str
    severity: str
    state: str
    since: str
    summary: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    function_id: str | None = None
    source: str = ""
    #: The alert's own labels that identify its function (found by the backend's label
    #: map, never a Callboard alias): what a silence of this alert must match.
    identity: Mapping[str, str] = field(default_factory=dict)
    #: When the latest silence muting it ends (``YYYY-MM-DDTHH:MM:SSZ``), if any.
    silenced_until: str | None = None
    #: The ids of the silences muting it.
    silence_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Deploy:
    """A change that may explain a failure."""

    function_id: str
    version: str
    at: str
    author: str = ""
    description: str = ""
    previous_version: str | None = None


@dataclass(slots=True)
class BurnRates:
    """SLO state for one function: burn rates per window and what fired.

    Treat it as immutable; not ``frozen`` only because one is built per function per
    refresh and a frozen dataclass costs 0.4 µs more to build.
    """

    rates: Mapping[str, float]
    budget_remaining: float | None
    page: bool = False
    ticket: bool = False
    low_traffic: bool = False


@dataclass(frozen=True, slots=True)
class Span:
    """One span in the normalised form every trace backend maps to."""

    trace_id: str
    span_id: str
    parent_id: str | None
    service: str
    name: str
    start_ns: int
    duration_ns: int
    kind: str = "internal"
    status: str = "unset"  # "error" | "ok" | "unset"
    status_message: str = ""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    events: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Trace:
    """A whole trace: its spans and, computed once, the first error span."""

    trace_id: str
    spans: tuple[Span, ...]
    first_error_span_id: str | None = None
    source: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """One line of a trace search result."""

    trace_id: str
    root_service: str
    root_name: str
    start_ns: int
    duration_ms: float
    #: None when the backend's search result does not say (e.g. Tempo without serviceStats).
    span_count: int | None
    error_count: int | None
    source: str = ""


@dataclass(frozen=True, slots=True)
class TraceQuery:
    """What to search traces for."""

    service: str
    operation: str | None = None
    errors_only: bool = False
    min_duration_ms: float | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    limit: int = 20


@dataclass(frozen=True, slots=True)
class BackendStatus:
    """How one backend instance is doing."""

    name: str
    plugin: str
    ok: bool
    error: str | None = None
    latency_ms: float | None = None
    #: Seconds since the last successful refresh (0 when fresh, None when never succeeded).
    stale_s: float | None = 0.0
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """A request to change production: which action, on which function, with which params."""

    action: str
    function_id: str
    params: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ActionPlan:
    """A dry run: exactly what an action would change, before it changes it."""

    request: ActionRequest
    backend: str
    summary: str
    changes: tuple[str, ...] = ()
    mutates: bool = True
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What an executed action did."""

    plan: ActionPlan
    ok: bool
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)
