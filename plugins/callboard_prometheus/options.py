"""The Prometheus plugin's config keys, declared once (:data:`OPTIONS`), and the ones that
need more than a type check. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.engine.fleet.httpbackend import HTTP_OPTIONS
from console.errors import ConfigError
from console.plugin_api import Option

from . import queries
from .queries import Preset

_WINDOW = "a window like 15s or 1m"
#: Every key this plugin reads (the convention overrides go to ``queries.build_preset``).
OPTIONS: tuple[Option, ...] = (
    *HTTP_OPTIONS,
    Option("preset", "str", "a convention (see callboard discover) or custom"),
    Option("conventions", "list", "[{preset: NAME, jobs: [JOB, ...]}, ...]"),
    Option("requests_metric", "any", "the request counter or histogram count metric"),
    Option("buckets_metric", "any", "the latency histogram's bucket metric"),
    Option("latency_unit", "str", "the histogram's unit", choices=("s", "ms")),
    Option("selector", "any", 'matchers without braces, e.g. job="api"'),
    Option("labels", "dict", "role → label names (service, route, method, code)"),
    Option("queries", "dict", "custom PromQL templates: {requests: ..., latency: ...}"),
    Option("route_patterns", "any", "routes to rewrite into templates, e.g. /orders/{id}"),
    Option("collapse_routes", "bool", "collapse ids in routes into templates"),
    Option("counting", "str", "how counters are read", choices=("rate", "delta")),
    Option("scrape_interval", "str", f"{_WINDOW}: every range is at least 4× this"),
    Option("rate_window", "str", f"{_WINDOW}: the range of rates and quantiles"),
    Option("burn_windows", "bool", "also fetch the SLO burn-rate windows", default=True),
    Option("discover", "bool", "list the functions found in the series", default=True),
    Option("query_timeout", "str", "Prometheus's own query timeout, e.g. 10s"),
)


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
