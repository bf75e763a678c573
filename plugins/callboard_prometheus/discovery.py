"""Which convention each Prometheus job follows, and how often it is scraped. Pure parsing.

With only a ``url`` configured, the plugin asks Prometheus two things, once per
:data:`TTL_S`:

1. one instant query, ``count by (job, __name__) ({__name__=~"<request metrics>"})``:
   which of the known request metrics (:mod:`.conventions`) each job exposes;
2. ``GET /api/v1/status/config``: the global and per-job ``scrape_interval``.

Each job gets its convention; the refresh queries are then the ``or`` of one part per
convention in use (each restricted to its jobs), so their number does not grow with the
fleet or with the jobs. The rate window becomes 4 × the longest scrape interval of those
jobs, and at least :data:`MIN_WINDOW_S`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from . import conventions
from .conventions import Convention

#: How long a discovery result is used before Prometheus is asked again.
TTL_S = 600.0
#: Prometheus's own default scrape interval.
DEFAULT_SCRAPE_S = 60.0
MIN_WINDOW_S = 60.0
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def query() -> str:
    """The one discovery query: series counts per job and known request metric."""
    names = "|".join(re.escape(n) for n in conventions.request_metrics())
    return f'count by (job, __name__) ({{__name__=~"{names}"}})'


def prom_duration(text: Any) -> float | None:
    """A Prometheus duration (``15s``, ``1m30s``) in seconds; None if not one."""
    if not isinstance(text, str) or not text:
        return None
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            return None
        total += int(m.group(1)) * _UNIT_S[m.group(2)]
        pos = m.end()
    return total if pos == len(text) and total > 0 else None


def scrape_intervals(payload: Any) -> tuple[float | None, dict[str, float]]:
    """``(global, {job: interval})`` from a ``/api/v1/status/config`` payload, seconds.

    The config comes back as YAML text in ``data.yaml``. Anything unreadable gives
    ``(None, {})``: the caller then falls back to configured or default values.
    """
    data = payload.get("data") if isinstance(payload, Mapping) else None
    text = data.get("yaml") if isinstance(data, Mapping) else None
    if not isinstance(text, str):
        return None, {}
    try:
        cfg = yaml.safe_load(text)
    except yaml.YAMLError:
        return None, {}
    if not isinstance(cfg, Mapping):
        return None, {}
    glob = cfg.get("global")
    default = prom_duration(glob.get("scrape_interval")) if isinstance(glob, Mapping) else None
    jobs: dict[str, float] = {}
    for sc in cfg.get("scrape_configs") or ():
        if not isinstance(sc, Mapping) or not isinstance(sc.get("job_name"), str):
            continue
        interval = prom_duration(sc.get("scrape_interval")) or default
        if interval is not None:
            jobs[sc["job_name"]] = interval
    return default, jobs


@dataclass(frozen=True)
class Discovery:
    """What discovery found: each job's convention and scrape interval."""

    jobs: Mapping[str, Convention]
    scrape_s: Mapping[str, float]
    default_scrape_s: float | None = None

    def by_convention(self) -> dict[str, list[str]]:
        """Convention name → its jobs, in table order."""
        out: dict[str, list[str]] = {}
        for conv in conventions.CONVENTIONS:
            jobs = [j for j, c in self.jobs.items() if c.name == conv.name]
            if jobs:
                out[conv.name] = sorted(jobs)
        return out

    def scrape_interval(self) -> float:
        """The longest scrape interval among the matched jobs (else the global one)."""
        known = [self.scrape_s[j] for j in self.jobs if j in self.scrape_s]
        if known:
            return max(known)
        return self.default_scrape_s or DEFAULT_SCRAPE_S

    def rate_window_s(self) -> float:
        """4 scrape intervals, and at least :data:`MIN_WINDOW_S`."""
        return max(4 * self.scrape_interval(), MIN_WINDOW_S)


def from_rows(rows: list[tuple[Mapping[str, str], float]], config_payload: Any) -> Discovery:
    """The Discovery from the discovery query's rows and the status/config payload."""
    pairs = [(m.get("job", ""), m.get("__name__", "")) for m, _ in rows]
    default, jobs = scrape_intervals(config_payload)
    return Discovery(conventions.pick(p for p in pairs if p[0] and p[1]), jobs, default)


def pinned(d: Discovery, name: str, url: str) -> dict[str, Any]:
    """The backend config that pins what was discovered (``callboard discover`` prints it)."""
    cfg: dict[str, Any] = {"name": name, "plugin": "prometheus", "url": url}
    groups = d.by_convention()
    if len(groups) == 1:
        cfg["preset"] = next(iter(groups))
    elif groups:
        cfg["conventions"] = [{"preset": c, "jobs": jobs} for c, jobs in groups.items()]
    cfg["scrape_interval"] = _fmt(d.scrape_interval())
    cfg["rate_window"] = _fmt(d.rate_window_s())
    return cfg


def _fmt(seconds: float) -> str:
    s = max(1, round(seconds))
    for unit, n in (("h", 3600), ("m", 60)):
        if s % n == 0:
            return f"{s // n}{unit}"
    return f"{s}s"
