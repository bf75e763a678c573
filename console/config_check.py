"""Validation of the config file: parsed YAML in, a :class:`~console.config.Config` out.

:class:`ConfigChecker` builds the config section by section and records *every* problem
as a ``ConfigError`` located at ``file:line`` (a bad value gets its default, so checking
goes on). Call it through :func:`console.config.parse_config` or ``load_config``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import fields

from console.config_fields import FieldChecker, describe, is_number, suggest
from console.config_model import (
    BackendConfig,
    Config,
    DemoConfig,
    Environment,
    MeConfig,
    OtlpConfig,
)
from console.config_store import check_store
from console.core.durations import parse_duration
from console.core.redact import is_secret_name
from console.errors import ConfigError
from console.yamlload import format_path

#: Accepted ``max_response_bytes`` of a backend (the default is httpbackend.MAX_BYTES).
RESPONSE_BYTES_RANGE = (1024, 1024 * 1024 * 1024)
_SLO_CLASSES = ("5xx", "timeout", "throttle", "auth", "serialization")


class ConfigChecker(FieldChecker):
    """Builds a :class:`Config` from parsed YAML, recording every problem (see ``FieldChecker``)."""

    def config(self, data: object) -> Config:
        """The whole file: every section checked, each bad value replaced by its default."""
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
            self.fail((), f"expected a mapping of settings at the top level, got {describe(data)}")
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
            incidents=self.incidents(top.get("incidents")),
            store=check_store(self, top.get("store")),
            me=self.me(top.get("me")),
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
            self.fail(("backends",), f"expected a list of backends, got {describe(value)}")
            return ()
        out: list[BackendConfig] = []
        seen: dict[str, int | None] = {}
        for index, item in enumerate(value):
            path = ("backends", index)
            if not isinstance(item, Mapping):
                self.fail(path, f"expected a mapping with name and plugin, got {describe(item)}")
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
                    (*path, "name"), f"expected a string naming this backend, got {describe(name)}"
                )
                ok = False
            if "plugin" in item and not (isinstance(plugin, str) and plugin.strip()):
                self.fail(
                    (*path, "plugin"), f"expected a string naming a plugin, got {describe(plugin)}"
                )
                ok = False
            options = {k: v for k, v in item.items() if k not in ("name", "plugin")}
            self.secret_refs(options, path)
            if "max_response_bytes" in options:  # an HTTP backend's answer-size limit
                options["max_response_bytes"] = self.integer(
                    options, "max_response_bytes", path, None, *RESPONSE_BYTES_RANGE,
                    "a size in bytes from 1024 to 1073741824 (1 GiB)",
                )  # fmt: skip
                if options["max_response_bytes"] is None:
                    del options["max_response_bytes"]
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
            lines = {k: self.lines.of((*path, k)) or line for k in options}
            out.append(
                BackendConfig(
                    name=name,
                    plugin=plugin,
                    options=options,
                    line=line,
                    option_lines={k: v for k, v in lines.items() if v is not None},
                )
            )
        return tuple(out)

    def secret_refs(self, value: object, path: tuple[Hashable, ...]) -> None:
        if isinstance(value, Mapping):
            if len(value) == 1 and "secret" in value and not is_secret_name(value["secret"]):
                self.fail(
                    (*path, "secret"),
                    "expected a secret name (letters, digits, '-', '_', '.'), "
                    f"got {describe(value['secret'])}",
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
            self.fail(("runbooks",), f"expected a list of runbook folders, got {describe(value)}")
            return ()
        out = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                out.append(item)
            else:
                self.fail(("runbooks", index), f"expected a folder path, got {describe(item)}")
        return tuple(out)

    def otlp(self, value: object) -> OtlpConfig:
        path = ("otlp",)
        d = self.section(
            value, path, ("enabled", "host", "port", "max_spans", "max_logs", "max_age")
        )
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
            max_logs=self.integer(
                d, "max_logs", path, default.max_logs, 1, 10**9, "a positive number of records"
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
            self.fail(("thresholds",), f"expected {what}, got {describe(value)}")
            return {}
        out: dict[str, dict[str, float]] = {}
        for section, keys in value.items():
            path: tuple[Hashable, ...] = ("thresholds", section)
            name = "guard" if str(section).lower() == "guard" else str(section).upper()
            if name not in known:
                self.fail(path, f"unknown failure mode{suggest(section, tuple(known))}")
                continue
            if not isinstance(keys, Mapping):
                self.fail(
                    path, f"expected a mapping of threshold name to number, got {describe(keys)}"
                )
                continue
            table = out.setdefault(name, {})
            for key, number in keys.items():
                if key not in known[name]:
                    self.fail(
                        (*path, key),
                        f"unknown threshold{suggest(key, tuple(known[name]))}",
                    )
                elif not is_number(number) or number < 0:
                    self.fail(
                        (*path, key), f"expected a non-negative number, got {describe(number)}"
                    )
                else:
                    table[str(key)] = float(number)
        return out

    def slo_counted(self, value: object) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple):
            self.fail(
                ("slo_counted",), f"expected a list of response classes, got {describe(value)}"
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
                    f"unknown response class {describe(item)}{suggest(item, _SLO_CLASSES)}",
                )
        return tuple(out)

    def refresh(self, value: object) -> float:
        try:
            seconds = parse_duration(value)
        except (ValueError, TypeError):
            seconds = -1.0
        if 0.1 <= seconds <= 3600:
            return seconds
        self.fail(
            ("refresh_interval",),
            "expected seconds between refreshes (0.1 to 3600, "
            f"or a duration like 10s), got {describe(value)}",
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

    def me(self, value: object) -> MeConfig:
        """``me: {handle, name}``: printable text (outside text, cleaned), bounded."""
        from console.core.team import HANDLE_MAX, NAME_MAX, clean_handle

        path = ("me",)
        d = self.section(value, path, ("handle", "name"))
        out: dict[str, str | None] = {"handle": None, "name": None}
        for key, limit, what in (
            ("handle", HANDLE_MAX, "a short handle such as maya@laptop"),
            ("name", NAME_MAX, "your name as the team reads it, such as Maya Lee"),
        ):
            if key not in d:
                continue
            raw = d[key]
            text = clean_handle(raw, limit + 1) if isinstance(raw, str) else ""
            if not text or len(text) > limit or (key == "handle" and " " in text):
                rule = f"at most {limit} characters" + (", no spaces" if key == "handle" else "")
                self.fail((*path, key), f"expected {what} ({rule}), got {describe(raw)}")
                continue
            out[key] = text
        return MeConfig(handle=out["handle"], name=out["name"])


_TOP_KEYS: tuple[str, ...] = tuple(
    f.name for f in fields(Config) if f.name not in ("source", "is_default")
)
