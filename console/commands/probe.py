"""``callboard check --probe``: ask each configured backend once whether it answers.

Each backend's ``check()`` runs once through the fleet's timeout, retries and breaker;
a Prometheus with custom queries then runs each query once (an instant query, the
placeholders replaced as at refresh) and reports the series it returned or Prometheus's
error. Per backend at most one check and ``callboard_prometheus.probe.MAX_QUERIES`` (8)
queries, plus the scrape-interval read a refresh makes, each call tried at most as often as
a refresh tries it (``Fleet.attempts``, 2): a bounded number of requests. A backend whose
check fails is not asked its queries.
"""

from __future__ import annotations

import asyncio
import functools
from typing import TYPE_CHECKING, Any

import click

from console.core.model import BackendStatus
from console.core.sanitize import clean_line
from console.errors import BackendError, ConfigError
from console.plugin_api import Health, Probed, is_local

if TYPE_CHECKING:
    import httpx

    from console.config import Config
    from console.engine.fleet.backend import Backend
    from console.engine.fleet.refresh import Fleet
    from console.engine.store.secrets import SecretStore


def _safe(text: str) -> str:
    """One line, known secrets and URL passwords redacted."""
    from console.commands.discover import _safe as redacted

    return redacted(clean_line(text)) or "error"


def _query_lines(config: Config) -> dict[tuple[str, str], int]:
    """(backend name, template key) → line of that query in the config file."""
    if not config.source:
        return {}
    from console.yamlload import load_yaml

    try:
        data, lines = load_yaml(config.source)
    except (ConfigError, OSError):
        return {}
    found: dict[tuple[str, str], int] = {}
    items = data.get("backends") if isinstance(data, dict) else None
    for i, item in enumerate(items if isinstance(items, list) else []):
        queries = item.get("queries") if isinstance(item, dict) else None
        if isinstance(queries, dict) and isinstance(item.get("name"), str):
            for key in queries:
                line = lines.of(("backends", i, "queries", key))
                if line is not None:
                    found[(item["name"], str(key))] = line
    return found


async def _probe_one(
    fleet: Fleet, b: Backend, lines: dict[tuple[str, str], int], source: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {"name": b.name, "plugin": b.plugin_name, "ok": False}
    out.update(latency_ms=None, error=None, queries=[])
    plugin = b.plugin
    if is_local(plugin):
        out["ok"] = True  # the embedded span store: nothing to reach
        return out
    if not isinstance(plugin, Health):
        out["error"] = "the plugin has no check(): its health is unknown"
        return out
    try:
        st = await fleet.call_once(b, "check", plugin.check)
    except BackendError as exc:
        out["error"] = _safe(str(exc))
        return out
    if not isinstance(st, BackendStatus):
        out["error"] = f"check() returned {type(st).__name__}, not a BackendStatus"
        return out
    out["latency_ms"] = st.latency_ms if st.latency_ms is not None else b.latency_ms
    if not st.ok:
        out["error"] = _safe(st.error or "check failed")
        return out  # a backend that does not answer is not asked its queries
    out["ok"] = True
    if not isinstance(plugin, Probed):
        return out
    count = plugin.count_series
    for key, promql in await plugin.custom_queries(fleet.window):
        line = lines.get((b.name, key))
        q: dict[str, Any] = {"query": key, "source": f"{source}:{line}" if line else None}
        try:
            q["series"] = await fleet.call_once(b, f"probe:{key}", functools.partial(count, promql))
            q["ok"], q["error"] = True, None
        except BackendError as exc:
            q["series"], q["ok"], q["error"] = None, False, _safe(str(exc))
        out["queries"].append(q)
    return out


async def probe_fleet(
    config: Config, secrets: SecretStore | None = None, http: httpx.AsyncClient | None = None
) -> list[dict[str, Any]]:
    """Each configured backend's probe report, in config order (all probed at once).

    Raises:
        ConfigErrors: a backend could not be built (e.g. a secret missing here).
    """
    from console.engine.fleet.build import build_fleet

    fleet = build_fleet(config, secrets=secrets, http=http, runbooks={})
    lines = _query_lines(config)
    try:
        return list(
            await asyncio.gather(
                *(_probe_one(fleet, b, lines, config.source) for b in fleet.backends)
            )
        )
    finally:
        await fleet.aclose()


def failures(reports: list[dict[str, Any]]) -> int:
    """How many backends and queries failed."""
    return sum(not r["ok"] for r in reports) + sum(
        not q["ok"] for r in reports for q in r["queries"]
    )


def render(reports: list[dict[str, Any]]) -> None:
    """Print the reports for people: one line per backend, one per custom query."""
    for r in reports:
        ms = f" {r['latency_ms']:g} ms" if r["latency_ms"] is not None else ""
        state = f"ok{ms}" if r["ok"] else f"failing{ms}: {r['error']}"
        click.echo(f"backend {r['name']} ({r['plugin']}): {state}")
        for q in r["queries"]:
            where = f" ({q['source']})" if q["source"] else ""
            result = f"{q['series']} series" if q["ok"] else f"failing: {q['error']}"
            click.echo(f"  query {q['query']}{where}: {result}")
