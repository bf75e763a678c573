"""Checks of single config values, each problem located at ``file:line``.

:class:`FieldChecker` records a :class:`~console.errors.ConfigError` for every bad value and
returns a default instead, so one pass reports every problem; :func:`describe` and
:func:`suggest` (shared with runbook and plugin option checks, :mod:`console.core.options`)
word the "got ..." and "did you mean ..." parts of its messages.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from console.config_model import IncidentsConfig
from console.core.durations import parse_duration
from console.core.options import describe, is_number, suggest
from console.errors import ConfigError
from console.yamlload import LineMap, format_path

__all__ = ["MAX_ONSET_WINDOW_S", "FieldChecker", "describe", "is_number", "suggest"]

#: The longest ``incidents.onset_window``: deploys are looked up 24 hours back.
MAX_ONSET_WINDOW_S = 24 * 3600.0


class FieldChecker:
    """Collects every problem while building a value; each value gets its default on error."""

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
            self.fail(path, f"expected a mapping of {', '.join(known)}, got {describe(value)}")
            return {}
        for key in value:
            if key not in known:
                self.fail((*path, key), f"unknown key{suggest(key, known)}")
        return {k: v for k, v in value.items() if k in known}

    def boolean(self, d: Mapping, key: str, path: tuple, default: bool) -> bool:
        value = d.get(key, default)
        if isinstance(value, bool):
            return value
        self.fail((*path, key), f"expected a boolean (true or false), got {describe(value)}")
        return default

    def string(self, d: Mapping, key: str, path: tuple, default: str, what: str) -> str:
        value = d.get(key, default)
        if isinstance(value, str) and value.strip():
            return value
        self.fail((*path, key), f"expected {what}, got {describe(value)}")
        return default

    def integer(
        self, d: Mapping, key: str, path: tuple, default: Any, lo: int, hi: int, what: str
    ) -> Any:
        value = d.get(key, default)
        if value is default or (
            isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
        ):
            return value
        self.fail((*path, key), f"expected {what}, got {describe(value)}")
        return default

    def incidents(self, value: object) -> IncidentsConfig:
        """The ``incidents`` section: ``onset_window``, a duration from 0s to 24h."""
        path = ("incidents",)
        d = self.section(value, path, ("onset_window",))
        default = IncidentsConfig()
        window = d.get("onset_window", default.onset_window)
        try:
            ok = 0.0 <= parse_duration(window) <= MAX_ONSET_WINDOW_S
        except ValueError:
            ok = False
        if not ok:
            self.fail(
                (*path, "onset_window"),
                "expected a duration from 0s to 24h (how long before the first finding a "
                f"deploy still counts as the onset), got {describe(window)}",
            )
            return default
        return IncidentsConfig(onset_window=str(window))
