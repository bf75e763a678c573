"""Config options of the Prometheus plugin that need more than a type check. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.errors import ConfigError

from . import queries
from .queries import Preset


def pinned_conventions(options: Mapping[str, Any]) -> list[Preset]:
    """The presets of a ``conventions:`` list (one per entry, restricted to its jobs)."""
    raw = options.get("conventions")
    if not isinstance(raw, list) or not raw:
        raise ConfigError("conventions: expected a list of {preset: NAME, jobs: [JOB, ...]}")
    out = []
    for i, item in enumerate(raw):
        jobs = item.get("jobs") if isinstance(item, Mapping) else None
        if not isinstance(jobs, list) or not jobs or not all(isinstance(j, str) for j in jobs):
            raise ConfigError(f"conventions[{i}]: expected {{preset: NAME, jobs: [JOB, ...]}}")
        base = {k: v for k, v in options.items() if k != "conventions"}
        out.append(queries.for_jobs(queries.build_preset({**base, **item}), jobs))
    return out
