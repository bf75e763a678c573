"""The typed configuration, loaded and validated before anything starts.

Where the file comes from, first match wins: the ``path`` argument (``--config FILE``),
``$CALLBOARD_CONFIG``, ``$XDG_CONFIG_HOME/callboard/config.yaml`` if it exists; otherwise the
built-in defaults (no backends: the app runs the demo fleet). A file named explicitly must
exist. Validation reports *every* problem at once, each located at ``file:line`` and saying
what was expected (:class:`~console.errors.ConfigErrors`). ``CALLBOARD_READ_ONLY=1`` forces
read-only whatever the file says.

A backend's keys other than ``name`` and ``plugin`` go to its plugin untouched; the plugin
validates them, and the registry checks that the plugin exists. A value written
``{secret: NAME}`` anywhere inside them is resolved by :mod:`console.engine.store.secrets`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from console import paths
from console.config_check import ConfigChecker
from console.config_model import (
    BackendConfig,
    Config,
    DemoConfig,
    Environment,
    IncidentsConfig,
    OtlpConfig,
    secret_ref,
    secret_refs,
)
from console.core.durations import parse_duration
from console.core.redact import is_secret_name
from console.errors import ConfigError, ConfigErrors
from console.yamlload import LineMap

__all__ = [
    "BackendConfig",
    "Config",
    "DemoConfig",
    "Environment",
    "IncidentsConfig",
    "OtlpConfig",
    "is_secret_name",
    "load_config",
    "parse_config",
    "parse_duration",
    "secret_ref",
    "secret_refs",
]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


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
    from console.core.sanitize import clean_obj
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
    # YAML's "\e" and "\x1b" escapes make any control character: none reaches the model.
    data = clean_obj(data, multiline=True)
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
    check = ConfigChecker(lines or LineMap(), source)
    config = check.config(data)
    if check.errors:
        check.errors.sort(key=lambda e: e.line or 0)
        raise ConfigErrors(check.errors)
    return config
