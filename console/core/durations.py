"""Durations written by people — ``250ms``, ``90s``, ``5m``, ``24h``, ``7d``, ``2w`` — in one
place, for config, runbook params, SLO windows and exports alike."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
UNIT_SECONDS: dict[str, float] = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 604800.0,
}


def parse_duration(value: object) -> float:
    """Seconds in ``"90s"``, ``"5m"``, ``"24h"``, ``"7d"``, ``"250ms"`` or a bare number
    (seconds).

    Raises:
        ValueError: not a non-negative number with an optional unit (ms, s, m, h, d, w).
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < 0 or value != value:
            raise ValueError(f"expected a non-negative duration, got {value!r}")
        return float(value)
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"expected a duration like 30s, 5m, 24h or 7d, got {value!r}")
    return float(match.group(1)) * UNIT_SECONDS[match.group(2) or "s"]
