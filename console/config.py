"""The typed configuration, loaded and validated before anything starts.

Where the file comes from, first match wins: the ``path`` argument (``--config FILE``),
``$CALLBOARD_CONFIG``, ``$XDG_CONFIG_HOME/callboard/config.yaml`` if it exists; otherwise the
built-in defaults (no backends: the app runs the demo fleet). A file named explicitly must
exist. Validation reports *every* problem at once, each located at ``file:line`` and saying
what was expected (:class:`~console.errors.ConfigErrors`). ``CALLBOARD_READ_ONLY=1`` forces
read-only whatever the file says.

A backend's keys other than ``name`` and ``plugin`` go to its plugin untouched; the plugin
validates them, and the registry checks that the plugin exists. A value written
``{secret: NAME}`` anywhere inside them is resolved by :mod:`console.engine.secrets`.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from console import paths
from console.core.redact import is_secret_name
from console.errors import ConfigError, ConfigErrors
from console.yamlload import LineMap, format_path

__all__ = [
    "BackendConfig",
    "Config",
    "DemoConfig",
    "Environment",
    "OtlpConfig",
    "is_secret_name",
    "load_config",
    "parse_config",
    "parse_duration",
    "secret_ref",
    "secret_refs",
]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def parse_duration(value: str | float) -> float:
    """Seconds in ``"90s"``, ``"5m"``, ``"24h"``, ``"7d"``, ``"250ms"`` or a bare number.

    Raises:
        ValueError: not a non-negative number with an optional unit (ms, s, m, h, d, w).
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"expected a non-negative duration, got {value!r}")
        return float(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"expected a duration like 30s, 5m, 24h or 7d, got {value!r}")
    return float(match.group(1)) * _UNIT_S[match.group(2) or "s"]


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
    max_age: str = "24h"
    """Spans older than this are dropped (a duration: 30m, 24h, 7d)."""

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


def _read_only_env(env: Mapping[str, str]) -> tuple[bool, ConfigError | None]:
    raw = env.get("CALLBOARD_READ_ONLY")
    if raw is None or raw.strip().lower() in _FALSE:
        return False, None
    if raw.strip().lower() in _TRUE:
        return True, None
    problem = ConfigError(
        f"environment variable CALLBOARD_READ_ONLY: expected 1, true or yes (or 0, false, no), got {raw!r}"
    )
    return False, problem


def load_config(path: str | Path | None = None, *, env: Mapping[str, str] = os.environ) -> Config:
    """Find, read and validate the config (see the module docstring for the search order).

    Raises:
        ConfigErrors: every problem found, each a located ``ConfigError``; also a missing
            file that was named explicitly ("config file not found").
    """
    from console.yamlload import load_yaml

    read_only, env_problem = _read_only_env(env)
    problems = [env_problem] if env_problem else []
    given = str(path) if path not in (None, "") else env.get("CALLBOARD_CONFIG") or None
    if given is not None:
        file = Path(given).expanduser()
        if not file.exists():
            raise ConfigErrors([*problems, ConfigError("config file not found", given)])
        source = given
    else:
        file = paths.config_file(env)
        if not file.is_file():
            if problems:
                raise ConfigErrors(problems)
            return replace(Config.demo_only(), read_only=read_only)
        source = str(file)
    try:
        data, lines = load_yaml(file)
    except ConfigError as exc:
        raise ConfigErrors([*problems, replace_path(exc, source)]) from None
    try:
        config = parse_config(data, lines, source)
    except ConfigErrors as exc:
        raise ConfigErrors([*problems, *exc.errors]) from None
    if problems:
        raise ConfigErrors(problems)
    return replace(config, read_only=True) if read_only else config


def replace_path(exc: ConfigError, source: str) -> ConfigError:
    """The same error, located in ``source`` (the path as the user wrote it)."""
    return ConfigError(exc.message, source, exc.line)


def parse_config(data: Any, lines: LineMap | None = None, source: str | None = None) -> Config:
    """Validate parsed YAML (``data`` and its ``LineMap``) into a :class:`Config`.

    Raises:
        ConfigErrors: every problem found, in file order.
    """
    check = _Checker(lines or LineMap(), source)
    config = check.config(data)
    if check.errors:
        check.errors.sort(key=lambda e: e.line or 0)
        raise ConfigErrors(check.errors)
    return config


def _describe(value: object) -> str:
    """How a wrong value is shown after "got": ``3``, ``'abc'``, ``a list``, ``nothing``."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, int | float):
        return repr(value)
    return f"a {type(value).__name__}"


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _suggest(word: object, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(known), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (expected one of: {', '.join(known)})"


_SLO_CLASSES = ("5xx", "timeout", "throttle", "auth", "serialization")


class _Checker:
    """Collects every problem while building the config; each value gets its default on error."""

    def __init__(self, lines: LineMap, source: str | None) -> None:
        self.lines = lines
        self.source = source
        self.errors: list[ConfigError] = []

    def fail(self, path: tuple[Hashable, ...], message: str) -> None:
        where = f"{format_path(path)}: " if path else ""
        self.errors.append(ConfigError(where + message, self.source, self.lines.of(path)))

    def section(self, value: object, path: tuple[Hashable, ...], known: tuple[str, ...]) -> dict:
        """A mapping with only ``known`` keys (None means empty); unknown keys are reported."""
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fail(path, f"expected a mapping of {', '.join(known)}, got {_describe(value)}")
            return {}
        for key in value:
            if key not in known:
                self.fail((*path, key), f"unknown key{_suggest(key, known)}")
        return {k: v for k, v in value.items() if k in known}

    def boolean(self, d: Mapping, key: str, path: tuple, default: bool) -> bool:
        value = d.get(key, default)
        if isinstance(value, bool):
            return value
        self.fail((*path, key), f"expected a boolean (true or false), got {_describe(value)}")
        return default

    def string(self, d: Mapping, key: str, path: tuple, default: str, what: str) -> str:
        value = d.get(key, default)
        if isinstance(value, str) and value.strip():
            return value
        self.fail((*path, key), f"expected {what}, got {_describe(value)}")
        return default

    def integer(
        self, d: Mapping, key: str, path: tuple, default: Any, lo: int, hi: int, what: str
    ) -> Any:
        value = d.get(key, default)
        if value is default or (
            isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
        ):
            return value
        self.fail((*path, key), f"expected {what}, got {_describe(value)}")
        return default

    def config(self, data: object) -> Config:
        for path, line, first in self.lines.duplicates:
            self.errors.append(
                ConfigError(
                    f"{format_path(path)}: given twice (first at line {first}); the last one wins "
                    "in YAML, so remove one",
                    self.source,
                    line,
                )
            )
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            self.fail((), f"expected a mapping of settings at the top level, got {_describe(data)}")
            data = {}
        top = self.section(data, (), _TOP_KEYS)
        return Config(
            environment=self.environment(top.get("environment")),
            read_only=self.boolean(top, "read_only", (), False),
            backends=self.backends(top.get("backends")),
            runbooks=self.runbooks(top.get("runbooks")),
            otlp=self.otlp(top.get("otlp")),
            thresholds=self.thresholds(top.get("thresholds")),
            slo_counted=self.slo_counted(top.get("slo_counted", ("5xx", "timeout"))),
            refresh_interval=self.refresh(top.get("refresh_interval", 5.0)),
            demo=self.demo(top.get("demo")),
            source=self.source,
        )

    def environment(self, value: object) -> Environment:
        path = ("environment",)
        if isinstance(value, str) and value.strip():
            return Environment(name=value)
        d = self.section(value, path, ("name", "production"))
        return Environment(
            name=self.string(d, "name", path, "demo", "an environment name such as prod-eu"),
            production=self.boolean(d, "production", path, False),
        )

    def backends(self, value: object) -> tuple[BackendConfig, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.fail(("backends",), f"expected a list of backends, got {_describe(value)}")
            return ()
        out: list[BackendConfig] = []
        seen: dict[str, int | None] = {}
        for index, item in enumerate(value):
            path = ("backends", index)
            if not isinstance(item, Mapping):
                self.fail(path, f"expected a mapping with name and plugin, got {_describe(item)}")
                continue
            name, plugin = item.get("name"), item.get("plugin")
            ok = True
            for key, what in (
                ("name", "a unique backend name, e.g. name: prom"),
                ("plugin", "the plugin to use, e.g. plugin: prometheus"),
            ):
                if key not in item:
                    self.fail(path, f"missing {key!r}: expected {what}")
                    ok = False
            if "name" in item and not (isinstance(name, str) and name.strip()):
                self.fail(
                    (*path, "name"), f"expected a string naming this backend, got {_describe(name)}"
                )
                ok = False
            if "plugin" in item and not (isinstance(plugin, str) and plugin.strip()):
                self.fail(
                    (*path, "plugin"), f"expected a string naming a plugin, got {_describe(plugin)}"
                )
                ok = False
            options = {k: v for k, v in item.items() if k not in ("name", "plugin")}
            self.secret_refs(options, path)
            if not ok:
                continue
            assert isinstance(name, str) and isinstance(plugin, str)
            line = self.lines.of(path)
            if name in seen:
                self.fail(
                    (*path, "name"), f"duplicate backend name {name!r} (first at line {seen[name]})"
                )
                continue
            seen[name] = line
            out.append(BackendConfig(name=name, plugin=plugin, options=options, line=line))
        return tuple(out)

    def secret_refs(self, value: object, path: tuple[Hashable, ...]) -> None:
        if isinstance(value, Mapping):
            if len(value) == 1 and "secret" in value and not is_secret_name(value["secret"]):
                self.fail(
                    (*path, "secret"),
                    "expected a secret name (letters, digits, '-', '_', '.'), "
                    f"got {_describe(value['secret'])}",
                )
            for key, item in value.items():
                self.secret_refs(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.secret_refs(item, (*path, index))

    def runbooks(self, value: object) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.fail(("runbooks",), f"expected a list of runbook folders, got {_describe(value)}")
            return ()
        out = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                out.append(item)
            else:
                self.fail(("runbooks", index), f"expected a folder path, got {_describe(item)}")
        return tuple(out)

    def otlp(self, value: object) -> OtlpConfig:
        path = ("otlp",)
        d = self.section(value, path, ("enabled", "host", "port", "max_spans", "max_age"))
        default = OtlpConfig()
        max_age = d.get("max_age", default.max_age)
        try:
            parse_duration(max_age)
        except ValueError as exc:
            self.fail((*path, "max_age"), str(exc))
            max_age = default.max_age
        return OtlpConfig(
            enabled=self.boolean(d, "enabled", path, default.enabled),
            host=self.string(d, "host", path, default.host, "a host name or address to listen on"),
            port=self.integer(d, "port", path, default.port, 1, 65535, "a port number 1–65535"),
            max_spans=self.integer(
                d, "max_spans", path, default.max_spans, 1, 10**9, "a positive number of spans"
            ),
            max_age=str(max_age),
        )

    def thresholds(self, value: object) -> dict[str, dict[str, float]]:
        from console.core.diagnose import DEFAULT_THRESHOLDS

        if value is None:
            return {}
        known = DEFAULT_THRESHOLDS.as_mapping()
        what = "a mapping of failure mode (F1–F10, guard) to {key: number}"
        if not isinstance(value, Mapping):
            self.fail(("thresholds",), f"expected {what}, got {_describe(value)}")
            return {}
        out: dict[str, dict[str, float]] = {}
        for section, keys in value.items():
            path: tuple[Hashable, ...] = ("thresholds", section)
            name = "guard" if str(section).lower() == "guard" else str(section).upper()
            if name not in known:
                self.fail(path, f"unknown failure mode{_suggest(section, tuple(known))}")
                continue
            if not isinstance(keys, Mapping):
                self.fail(
                    path, f"expected a mapping of threshold name to number, got {_describe(keys)}"
                )
                continue
            table = out.setdefault(name, {})
            for key, number in keys.items():
                if key not in known[name]:
                    self.fail(
                        (*path, key),
                        f"unknown threshold{_suggest(key, tuple(known[name]))}",
                    )
                elif not _number(number) or number < 0:
                    self.fail(
                        (*path, key), f"expected a non-negative number, got {_describe(number)}"
                    )
                else:
                    table[str(key)] = float(number)
        return out

    def slo_counted(self, value: object) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple):
            self.fail(
                ("slo_counted",), f"expected a list of response classes, got {_describe(value)}"
            )
            return ("5xx", "timeout")
        out = []
        for index, item in enumerate(value):
            if item in _SLO_CLASSES:
                out.append(str(item))
            elif item == "client":
                self.fail(
                    ("slo_counted", index),
                    "class 'client' has no rate of its own and "
                    f"cannot count against the SLO; expected one of: {', '.join(_SLO_CLASSES)}",
                )
            else:
                self.fail(
                    ("slo_counted", index),
                    f"unknown response class {_describe(item)}{_suggest(item, _SLO_CLASSES)}",
                )
        return tuple(out)

    def refresh(self, value: object) -> float:
        try:
            seconds = parse_duration(value)  # type: ignore[arg-type]
        except (ValueError, TypeError):
            seconds = -1.0
        if 0.1 <= seconds <= 3600:
            return seconds
        self.fail(
            ("refresh_interval",),
            "expected seconds between refreshes (0.1 to 3600, "
            f"or a duration like 10s), got {_describe(value)}",
        )
        return 5.0

    def demo(self, value: object) -> DemoConfig:
        d = self.section(value, ("demo",), ("seed", "size"))
        return DemoConfig(
            seed=self.integer(d, "seed", ("demo",), 7, -(2**63), 2**63 - 1, "an integer seed"),
            size=self.integer(
                d, "size", ("demo",), None, 1, 1_000_000, "a number of functions (1 or more)"
            ),
        )


_TOP_KEYS: tuple[str, ...] = tuple(
    f.name for f in fields(Config) if f.name not in ("source", "is_default")
)
