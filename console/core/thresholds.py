"""Diagnosis thresholds: the numbers each failure-mode rule compares against.

``Thresholds`` holds every threshold as a flat field (``f2_throttle_rate``); config writes
them per mode (``{F2: {throttle_rate: 0.02}}``), and ``from_mapping`` / ``as_mapping``
convert between the two. The rules themselves are in :mod:`console.core.diagnose_rules`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from console.core.model import FailureMode


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Every diagnosis threshold. Rates and saturation are fractions 0..1.

    Config names a field as ``{mode: {key: number}}``: the field ``f2_throttle_rate`` is
    ``F2: {throttle_rate: ...}`` and ``min_rps`` is ``guard: {min_rps: ...}``.
    """

    #: Traffic guard: all rules but F7 need at least this many requests per second.
    min_rps: float = 0.1
    #: F1 fires at this timeout rate ...
    f1_timeout_rate: float = 0.02
    #: ... or when p99 is this many times the baseline p99 (and at least the SLO's p99).
    f1_p99_factor: float = 3.0
    #: F1 pages at this timeout rate (or when the SLO burn pages); otherwise a ticket.
    f1_page_timeout_rate: float = 0.05
    #: F2 files a ticket at this rate of 429 responses ...
    f2_throttle_rate: float = 0.01
    #: ... and pages at this one.
    f2_page_throttle_rate: float = 0.05
    #: F3 (pages) at this retry rate when traffic is ``f3_rps_factor`` × baseline ...
    f3_retry_rate: float = 0.10
    f3_rps_factor: float = 2.0
    #: ... or at this retry rate alone.
    f3_retry_rate_alone: float = 0.30
    #: F4 (ticket) at this cold-start rate when p99 is ``f4_p99_factor`` × baseline p99
    #: (or there is no baseline p99).
    f4_cold_start_rate: float = 0.05
    f4_p99_factor: float = 2.0
    #: F5 when this fraction of instances is failing (others still succeed) ...
    f5_failing_instances_min: float = 0.05
    f5_failing_instances_max: float = 0.95
    #: ... and at least this 5xx rate. Pages only when the SLO burn pages.
    f5_error_5xx_rate: float = 0.01
    #: F6 files a ticket at this 401/403 rate and pages at the second.
    f6_auth_error_rate: float = 0.02
    f6_page_auth_error_rate: float = 0.10
    #: F7 at this CPU or memory saturation; pages at ``f7_page_memory``.
    f7_cpu: float = 0.90
    f7_memory: float = 0.90
    f7_page_memory: float = 0.97
    #: F7 also when the queue is ``f7_queue_factor`` × baseline and at least ``f7_queue_length``.
    f7_queue_factor: float = 5.0
    f7_queue_length: float = 100.0
    #: F8 files a ticket at this 400/422 rate and pages at the second.
    f8_serialization_error_rate: float = 0.02
    f8_page_serialization_error_rate: float = 0.10
    #: F9 files a ticket when a dependency fails this fraction of calls; pages at the second.
    f9_dependency_error_rate: float = 0.20
    f9_page_dependency_error_rate: float = 0.50
    #: F10 (ticket) when cost per 1k requests is this many times baseline ...
    f10_cost_factor: float = 3.0
    #: ... or traffic is this many times baseline (with a known cost).
    f10_rps_factor: float = 5.0

    @classmethod
    def from_mapping(cls, data: Mapping[str, Mapping[str, float]]) -> Thresholds:
        """Defaults overridden by config like ``{"F2": {"throttle_rate": 0.02}}``.

        Raises:
            ValueError: naming an unknown mode or key (``"F2: unknown key 'x' ..."``), or
                a value that is not a non-negative number (``"F2.throttle_rate: ..."``).
                Messages do not repeat "thresholds": callers add where it came from.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"expected a mapping of mode -> {{key: number}}, got {data!r}")
        changes: dict[str, float] = {}
        for section, keys in data.items():
            name = str(section)
            name = "guard" if name.lower() == "guard" else name.upper()
            table = _CONFIG_KEYS.get(name)
            if table is None:
                raise ValueError(f"unknown failure mode {section!r} (expected guard or F1–F10)")
            if not isinstance(keys, Mapping):
                raise ValueError(f"{name}: expected a mapping of key -> number, got {keys!r}")
            for key, value in keys.items():
                attr = table.get(key)
                if attr is None:
                    raise ValueError(
                        f"{name}: unknown key {key!r} (expected one of: {', '.join(table)})"
                    )
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                if not ok or not math.isfinite(value) or value < 0:
                    raise ValueError(f"{name}.{key}: expected a non-negative number, got {value!r}")
                changes[attr] = float(value)
        result = replace(DEFAULT_THRESHOLDS, **changes)
        if result.f5_failing_instances_min > result.f5_failing_instances_max:
            raise ValueError("F5: failing_instances_min is above failing_instances_max")
        return result

    def as_mapping(self) -> dict[str, dict[str, float]]:
        """Every threshold in config shape (``{"guard": {...}, "F1": {...}, ...}``)."""
        return {
            section: {key: getattr(self, attr) for key, attr in table.items()}
            for section, table in _CONFIG_KEYS.items()
        }


def _config_keys() -> dict[str, dict[str, str]]:
    """Config section -> config key -> Thresholds field, derived from the field names."""
    table: dict[str, dict[str, str]] = {"guard": {}}
    table.update({m.value: {} for m in FailureMode})
    for f in fields(Thresholds):
        mode, _, key = f.name.partition("_")
        if mode.upper() in table and mode[1:].isdigit():
            table[mode.upper()][key] = f.name
        else:
            table["guard"][f.name] = f.name
    return table


_CONFIG_KEYS = _config_keys()
DEFAULT_THRESHOLDS = Thresholds()
