"""The Prometheus plugin: functions discovered from series, their signals, and PromQL
answered as one number (the ``Query`` capability, :mod:`.scalar`).

Config keys: :data:`OPTIONS` (declared once, checked by Callboard with ``file:line``).
Without ``preset`` (and without overrides) each job's convention is discovered
(:mod:`callboard_prometheus.discovery`); ``conventions: [{preset: NAME, jobs: [JOB, ...]}]``
pins several side by side; the overrides are read by
:func:`callboard_prometheus.queries.build_preset`.

One refresh sends three queries whatever the fleet size: requests by status code,
latency quantiles, and the burn windows. Every 10 minutes, with the inventory call, it
also sends the two discovery requests and one ``label/le/values`` per histogram.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Mapping
from dataclasses import replace
from typing import Any, ClassVar

from console.core.model import BURN_WINDOWS, BackendStatus, Function, Signals
from console.core.slo import parse_window
from console.engine.fleet.httpbackend import HttpBackend
from console.errors import BackendError, ConfigError
from console.plugin_api import Option, PluginContext, check_options

from . import discovery as disc
from . import parse, plan, probe, queries, scalar
from .history import SERIES, series_one
from .options import OPTIONS, pinned_conventions
from .queries import Preset

MAX_POINTS = 11_000
#: Options that fix the convention: with any of them there is no convention discovery.
_FIXING = ("preset", "requests_metric", "buckets_metric", "latency_unit", "labels", "queries")


def _duration(value: Any, key: str) -> float:
    try:
        return parse_window(str(value))
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def promql_duration(seconds: float) -> str:
    """Seconds as a PromQL duration (whole seconds, or minutes/hours/days when exact)."""
    s = max(1, round(seconds))
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if s % n == 0:
            return f"{s // n}{unit}"
    return f"{s}s"


class PrometheusPlugin:
    """Inventory, Metrics and Query from a Prometheus-compatible query API."""

    OPTIONS: ClassVar[tuple[Option, ...]] = OPTIONS

    def __init__(self, name: str, options: Mapping[str, Any], ctx: PluginContext) -> None:
        check_options("prometheus", self.OPTIONS, options)
        self.name = name
        self.ctx = ctx
        self.http = HttpBackend(options, ctx.http, ctx.secret)
        #: Where the backend lives, for error text (``plugin_api.Located``).
        self.url = self.http.url
        self.options = dict(options)
        if "conventions" in options:
            self.presets = pinned_conventions(options)
        else:
            self.presets = [queries.build_preset(options)]
        #: Ask Prometheus which convention each job follows (no preset configured).
        self.auto = "conventions" not in options and not any(k in options for k in _FIXING)
        si = options.get("scrape_interval")
        self.scrape_fixed = si is not None
        self.scrape_s = _duration(si if si is not None else "15s", "scrape_interval")
        rw = options.get("rate_window")
        self.rate_window_s = _duration(rw, "rate_window") if rw is not None else None
        self.rate_fixed = rw is not None
        #: The last discovery and when it ran (fleet clock).
        self.found: disc.Discovery | None = None
        self._found_at: float | None = None
        #: Highest finite bucket per preset index (seconds), and when it was read.
        self._tops: dict[str, float] = {}
        self._tops_at: float | None = None
        self.burn = options.get("burn_windows") is not False
        self.discover = options.get("discover") is not False
        qt = options.get("query_timeout")
        self.query_timeout = promql_duration(_duration(qt, "query_timeout")) if qt else None
        #: Warnings from the last call's responses (the engine shows them).
        self.warnings: tuple[str, ...] = ()
        self._warn: list[str] = []
        self._inventory_warn: list[str] = []

    @property
    def preset(self) -> Preset:
        """The first (often only) preset in use."""
        return self.presets[0]

    # -- plumbing ---------------------------------------------------------------------

    def range_for(self, window_s: float) -> str:
        """A range never shorter than 4 scrape intervals."""
        return promql_duration(max(window_s, 4 * self.scrape_s))

    async def query(self, promql: str, **extra: str) -> list[Any]:
        """POST one instant query (form data); returns ``data.result``."""
        form = {"query": promql, **extra}
        if self.query_timeout:
            form["timeout"] = self.query_timeout
        path = "/api/v1/query_range" if "step" in extra else "/api/v1/query"
        _, body, _ = await self.http.request("POST", path, data=form, ok=(400, 422))
        payload = await self.http.adecode(body)
        expect = ("matrix",) if "step" in extra else ("vector",)
        result, warnings = parse.envelope(payload, expect)
        self._warn.extend(w for w in warnings if w not in self._warn)
        return result

    async def rows(self, promql: str) -> list[parse.Row]:
        rows, bad = parse.vector_rows(await self.query(promql))
        if bad:
            self._warn.append(f"{bad} malformed series ignored")
        return rows

    def _begin(self) -> None:
        self._warn = []

    async def discovery(self, force: bool = False) -> disc.Discovery | None:
        """Conventions per job and scrape intervals, asked at most once per TTL; None when
        everything is configured. Applies what it found to the presets and windows.

        Raises:
            BackendError: the discovery query failed (the status/config one may fail:
                some Prometheus-compatible services do not serve it).
        """
        if not force and not self.auto and self.scrape_fixed:
            return None
        now = self.ctx.clock()
        if not force and self._found_at is not None and now - self._found_at < disc.TTL_S:
            return self.found
        rows = await self.rows(disc.query()) if self.auto or force else []
        try:
            _, body, _ = await self.http.request("GET", "/api/v1/status/config")
            config: Any = self.http.decode(body)
        except BackendError as exc:
            config = None
            self._warn.append(
                f"scrape interval not read from Prometheus ({exc}); set scrape_interval"
            )
        found = disc.from_rows(rows, config)
        self.found, self._found_at = found, now
        self._apply(found)
        self._tops_at = None  # the presets may have changed: read their buckets again
        return found

    async def _bucket_tops(self) -> dict[str, float]:
        """Each preset's highest finite bucket bound (seconds), by preset index, from
        ``/api/v1/label/le/values`` (once per discovery TTL, with the inventory call, so a
        refresh still sends its three queries): a quantile at that bound is a lower bound.

        Jobs of one convention whose buckets end elsewhere get presets of their own (one
        request per job), so each function is compared with its own histogram."""
        now = self.ctx.clock()
        if self._tops_at is not None and now - self._tops_at < disc.TTL_S:
            return self._tops
        presets: list[Preset] = []
        tops: dict[str, float] = {}
        for p in self.presets:
            if queries.bucket_selector(p) is None:
                presets.append(p)
                continue
            groups: dict[float | None, list[str]] = {}
            for job in p.jobs or ("",):
                one = replace(p, jobs=(job,)) if job else p
                groups.setdefault(await self._top(one), []).append(job)
            for top, jobs in groups.items():
                if top is not None:
                    tops[str(len(presets))] = top / 1000.0 if p.latency_unit == "ms" else top
                presets.append(replace(p, jobs=tuple(j for j in jobs if j)))
        self.presets, self._tops, self._tops_at = presets, tops, now
        return tops

    async def _top(self, p: Preset) -> float | None:
        try:
            params = {"match[]": queries.bucket_selector(p) or ""}
            _, body, _ = await self.http.request("GET", "/api/v1/label/le/values", params=params)
            payload: Any = self.http.decode(body)
        except BackendError as exc:
            self._warn.append(f"histogram buckets not read ({exc}): capped p99 not flagged")
            return None
        data = payload.get("data") if isinstance(payload, Mapping) else None
        return parse.top_bucket(data if isinstance(data, list) else None)

    def _apply(self, found: disc.Discovery) -> None:
        if self.auto:
            groups = found.by_convention()
            if groups:
                self.presets = [
                    queries.for_jobs(queries.build_preset({**self.options, "preset": c}), jobs)
                    for c, jobs in groups.items()
                ]
            else:
                self.presets = [queries.build_preset(self.options)]
                self._warn.append(
                    "no job exposes a known HTTP request metric (see callboard discover); "
                    "using the otel-http preset"
                )
        known = found.scrape_s or found.default_scrape_s
        if not self.scrape_fixed and known:
            self.scrape_s = found.scrape_interval()
        if not self.rate_fixed and not self.scrape_fixed and known:
            self.rate_window_s = found.rate_window_s()

    def _end(self) -> None:
        self.warnings = tuple(dict.fromkeys([*self._inventory_warn, *self._warn]))

    # -- capabilities -----------------------------------------------------------------

    async def check(self) -> BackendStatus:
        """Probe with a trivial query (the same path and auth as real ones). Never raises."""
        started = time.perf_counter()
        try:
            await self.query("vector(1)")
        except BackendError as exc:
            return BackendStatus(self.name, "prometheus", ok=False, error=str(exc))
        except Exception as exc:  # check() never raises: a surprise is reported too
            error = f"{type(exc).__name__}: {exc}"
            return BackendStatus(self.name, "prometheus", ok=False, error=error)
        ms = round((time.perf_counter() - started) * 1000.0, 1)
        return BackendStatus(self.name, "prometheus", ok=True, latency_ms=ms)

    async def query_scalar(self, query: str) -> float | None:
        """One instant query's single number (``Query``); None: no data. Raises: BackendError."""
        return await scalar.query_scalar(self.http, query, self.query_timeout)

    async def custom_queries(self, window: str) -> list[tuple[str, str]]:
        """Each custom template as ``(key, PromQL)``, filled as a refresh over ``window``."""
        return await probe.custom_queries(self, window)

    async def count_series(self, query: str) -> int:
        """Run ``query`` once (an instant PromQL query): how many series it returns."""
        return len(await self.query(query))

    async def discover_report(self) -> dict[str, Any]:
        """What discovery finds now, for ``callboard discover``: each job's convention,
        the scrape interval and rate window in use, the functions, and the config that
        pins all of it.

        Raises:
            BackendError: Prometheus could not be asked.
        """
        found = await self.discovery(force=True)
        fns = await self.functions()
        jobs = {}
        if found is not None:
            for job, conv in sorted(found.jobs.items()):
                jobs[job] = {
                    "convention": conv.name,
                    "library": conv.library,
                    "scrape_interval_s": found.scrape_s.get(job, found.default_scrape_s),
                }
        return {
            "backend": self.name,
            "url": self.http.url,
            "jobs": jobs,
            "scrape_interval_s": self.scrape_s,
            "rate_window_s": self.rate_window_s,
            "functions": len(fns),
            "warnings": list(self.warnings),
            "config": disc.pinned(found, self.name, self.http.url) if found else None,
        }

    async def functions(self) -> list[Function]:
        """Every function with a requests series (empty when ``discover`` is off)."""
        if not self.discover:
            return []
        self._begin()
        try:
            await self.discovery()
            await self._bucket_tops()
            rows = await self.rows(plan.discover(self.presets))
            # kept until the next discovery: the signals call that follows would reset them
            self._inventory_warn = parse.route_warnings(rows)
            return parse.functions(rows, self.name)
        finally:
            self._end()

    async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
        """Signals for ``functions``: a constant three queries, whatever their number."""
        self._begin()
        try:
            await self.discovery()
            rng = self.range_for(self.rate_window_s or parse_window(window))
            windows = self._burn_windows(functions)
            lat_q = plan.latencies(self.presets, rng)
            burn_q = plan.burn(self.presets, windows)
            jobs = [self.rows(plan.requests(self.presets, rng))]
            jobs.append(self.rows(lat_q) if lat_q else _nothing())
            jobs.append(self.rows(burn_q) if burn_q else _nothing())
            req_rows, lat_rows, burn_rows = await _all(jobs)
            counts = parse.count_rows(req_rows)
            self._warn_grouped(parse.grouped_services(counts))
            return parse.build_signals(
                [f.id for f in functions],
                counts,
                parse.latency_rows(lat_rows, "s", self._tops),
                parse.burn_rows(burn_rows),
                windows,
            )
        finally:
            self._end()

    def _warn_grouped(self, services: list[str]) -> None:
        if not services:
            return
        names = ", ".join(services[:5]) + (
            f" and {len(services) - 5} more" if len(services) > 5 else ""
        )
        self._warn.append(
            f"{names}: the exporter groups status codes (2xx/4xx/5xx); 4xx are counted as "
            "unclassified client errors, so throttling (429), auth (401/403) and bad payloads "
            "(400/422) cannot be told apart (no F2/F6/F8)"
        )

    def _burn_windows(self, functions: list[Function]) -> dict[str, str]:
        if not self.burn:
            return {}
        names = list(BURN_WINDOWS)
        for f in functions:
            if f.slo.window not in names:
                names.append(f.slo.window)
        return {w: self.range_for(parse_window(w)) for w in names}

    def identity(self, fn: Function) -> dict[str, str]:
        """A function's canonical label values (from discovery, else from its id)."""
        out = {"service": fn.service}
        route, method = fn.labels.get("route"), fn.labels.get("method")
        if route is None and method is None and fn.operation:
            if self.preset.labels.get("method") and " " in fn.operation:
                method, route = fn.operation.split(" ", 1)
            else:
                route = fn.operation
        if route and self.preset.labels.get("route"):
            out["route"] = route
        if method and self.preset.labels.get("method"):
            out["method"] = method
        return out

    def series_query(self, fn: Function, signal: str, window: str) -> str | None:
        """The PromQL for one signal of one function (``or`` over the conventions in use),
        or None for an unknown signal."""
        what = SERIES.get(signal)
        if what is None:
            return None
        ident = self.identity(fn)
        parts = [series_one(p, ident, what, window) for p in self.presets]
        real = [q for q in parts if q]
        if not real:
            return None
        return real[0] if len(real) == 1 else " or ".join(f"({q})" for q in real)

    async def series(
        self, function: Function, signal: str, start: float, end: float, step: float
    ) -> list[tuple[float, float]]:
        """A signal's history via ``query_range``; [] for a signal this backend lacks."""
        if end <= start:
            return []
        step = max(step, (end - start) / MAX_POINTS, 1.0)
        self._begin()
        try:
            await self.discovery()
            q = self.series_query(function, signal, self.range_for(max(step, 60.0)))
            if q is None:
                return []
            result = await self.query(q, start=f"{start:.3f}", end=f"{end:.3f}", step=f"{step:g}")
        finally:
            self._end()
        return parse.matrix_points(result)

    async def aclose(self) -> None:
        await self.http.aclose()


async def _nothing() -> list[parse.Row]:
    return []


async def _all(jobs: list[Coroutine[Any, Any, list[parse.Row]]]) -> list[list[parse.Row]]:
    """Every job's rows, run at once; when one fails the others are cancelled and awaited
    first (a bare gather left them running: their sockets outlived the client)."""
    tasks = [asyncio.ensure_future(j) for j in jobs]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
