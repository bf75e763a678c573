"""The typed configuration: what :func:`console.config.load_config` returns.

Plain frozen dataclasses, one docstring per field, and the ``{secret: NAME}`` reference
helpers. Kept apart from the loader so the checker that builds them
(:mod:`console.config_check`) and the loader that calls the checker import this module,
not each other.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from console.core.durations import parse_duration


def secret_ref(value: object) -> str | None:
    """The NAME in a ``{secret: NAME}`` reference, else None (any other value)."""
    if isinstance(value, Mapping) and len(value) == 1 and "secret" in value:
        name = value["secret"]
        if isinstance(name, str) and name:
            return name
    return None


def secret_refs(options: object, path: tuple[Hashable, ...] = ()) -> list[tuple[tuple, str]]:
    """Every ``{secret: NAME}`` reference inside ``options``, as ``(path, NAME)`` pairs."""
    name = secret_ref(options)
    if name is not None:
        return [(path, name)]
    found: list[tuple[tuple, str]] = []
    if isinstance(options, Mapping):
        for key, value in options.items():
            found += secret_refs(value, (*path, key))
    elif isinstance(options, list | tuple):
        for index, value in enumerate(options):
            found += secret_refs(value, (*path, index))
    return found


@dataclass(frozen=True)
class Environment:
    """Which environment this console is pointed at."""

    name: str = "demo"
    """Shown in the header, e.g. ``prod-eu``."""
    production: bool = False
    """Production: a red header, and every mutating step asks for confirmation."""


@dataclass(frozen=True)
class BackendConfig:
    """One configured backend instance (two Prometheus servers are two of these)."""

    name: str
    """Unique name of this instance, e.g. ``prom``; shown in status and errors."""
    plugin: str
    """Entry-point name of the plugin class in group ``callboard.plugins``."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Every other key, passed to the plugin untouched (it validates its own keys)."""
    line: int | None = None
    """Line of this backend in the config file, for errors found later."""
    option_lines: Mapping[str, int] = field(default_factory=dict, compare=False)
    """Line of each of ``options`` in the config file, for its plugin's option errors."""


@dataclass(frozen=True)
class OtlpConfig:
    """The embedded OTLP/HTTP trace receiver."""

    enabled: bool = True
    """Run the receiver while the console runs."""
    host: str = "127.0.0.1"
    """Address to listen on; loopback unless you mean to accept spans from elsewhere."""
    port: int = 4318
    """TCP port (4318 is the OTLP/HTTP standard)."""
    max_spans: int = 100_000
    """Spans kept in the store; the oldest are dropped first."""
    max_logs: int = 200_000
    """Log records kept in the store (``POST /v1/logs``); the oldest are dropped first."""
    max_age: str = "24h"
    """Spans and log records received longer ago than this are dropped (30m, 24h, 7d)."""

    @property
    def max_age_seconds(self) -> float:
        """``max_age`` in seconds."""
        return parse_duration(self.max_age)


@dataclass(frozen=True)
class DemoConfig:
    """The built-in simulated fleet."""

    seed: int = 7
    """Random seed: the same seed gives the same fleet on every run."""
    size: int | None = None
    """Number of functions; None keeps the default scenario (about 50)."""


@dataclass(frozen=True)
class IncidentsConfig:
    """How incident times are read from the timeline."""

    onset_window: str = "1h"
    """A deploy seen less than this before an incident's first finding or alert is its onset
    (impact is measured from there); one further back is not (a duration: 0s to 24h)."""

    @property
    def onset_window_seconds(self) -> float:
        """``onset_window`` in seconds."""
        return parse_duration(self.onset_window)


@dataclass(frozen=True)
class StoreConfig:
    """Where incidents, events, runs and settings are kept: the local SQLite file (the
    default) or a team's PostgreSQL (``url``). Spans and plugin state stay in the local file."""

    url: str | None = None
    """``postgresql://user@host:port/db`` (no password in it); None: the local SQLite file."""
    password: str | None = None
    """The secret NAME of the password (written ``password: {secret: NAME}``)."""
    migrate: str = "auto"
    """``auto``: bring the schema up to date at start; ``manual``: refuse, and say to run
    ``callboard store migrate``."""
    line: int | None = None
    """Line of ``store`` in the config file."""


@dataclass(frozen=True)
class MeConfig:
    """Who is at this console: the actor of every event it writes."""

    handle: str | None = None
    """A short handle shown on every event (``maya@laptop``); None: ``$USER@host``."""
    name: str | None = None
    """A display name for the responders list of exports (``Maya Lee``); None: none."""


@dataclass(frozen=True)
class Config:
    """Everything Callboard reads from its config file."""

    environment: Environment = field(default_factory=Environment)
    """Environment name and whether it is production."""
    read_only: bool = False
    """Refuse every mutating step and action (also ``--read-only``, ``CALLBOARD_READ_ONLY``)."""
    backends: tuple[BackendConfig, ...] = ()
    """Configured backends; none means the demo fleet."""
    runbooks: tuple[str, ...] = ()
    """Extra runbook folders, read after the shipped ones (relative to the config file)."""
    otlp: OtlpConfig = field(default_factory=OtlpConfig)
    """The embedded OTLP receiver."""
    thresholds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    """Diagnosis thresholds overriding the defaults, e.g. ``{F2: {throttle_rate: 0.02}}``."""
    slo_counted: tuple[str, ...] = ("5xx", "timeout")
    """Response classes that count against the SLO (5xx, timeout, throttle, auth, serialization)."""
    refresh_interval: float = 5.0
    """Seconds between fleet refreshes (a number or a duration such as ``10s``)."""
    demo: DemoConfig = field(default_factory=DemoConfig)
    """Settings of the demo fleet."""
    incidents: IncidentsConfig = field(default_factory=IncidentsConfig)
    """Incident times: how far back a deploy still counts as the onset."""
    store: StoreConfig = field(default_factory=StoreConfig)
    """The team store (PostgreSQL) or the local file."""
    me: MeConfig = field(default_factory=MeConfig)
    """Who you are on the team's timeline: ``{handle, name}`` (default ``$USER@host``)."""
    source: str | None = None
    """The file this was loaded from; None for built-in defaults."""
    is_default: bool = False
    """True when no config file was found and these are the built-in defaults."""

    @classmethod
    def demo_only(cls, base: Config | None = None) -> Config:
        """The demo configuration: no backends, a non-production ``demo`` environment.

        With ``base``, its thresholds, SLO classes, refresh interval, demo settings and
        read-only flag are kept (``--demo`` with a config file).
        """
        if base is None:
            return cls(is_default=True)
        return replace(base, environment=Environment(), backends=())

    def runbook_paths(self) -> tuple[Path, ...]:
        """``runbooks`` as paths: ``~`` expanded, relative ones against the config's folder."""
        root = Path(self.source).expanduser().parent if self.source else Path.cwd()
        return tuple(
            p if p.is_absolute() else root / p
            for p in (Path(r).expanduser() for r in self.runbooks)
        )
