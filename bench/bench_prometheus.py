"""One Prometheus refresh at 100 and 2,000 functions: the plugin vs a bare httpx loop.

Starts a real Prometheus (Debian's ``prometheus``) on a loopback port scraping the
instrumented test app, then times ``PrometheusPlugin.signals`` (the whole fleet, one
refresh) against the very same queries sent by a bare ``httpx.AsyncClient`` loop that only
posts them concurrently and decodes the JSON. Prints both medians and the ratio
(target: ≤ 1.3×).

Run: ``.venv/bin/python bench/bench_prometheus.py [--rounds 15]``
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from callboard_prometheus import PrometheusPlugin

from console.plugin_api import PluginContext
from tests.integration import instrumented_app as app
from tests.integration import servers

OPTS = {"scrape_interval": "1s", "rate_window": "4s"}


def _ready(url: str, n: int) -> bool:
    q = "count(group by (service_name, http_route) (http_server_request_duration_seconds_count)) and on() min(count_over_time(up[10s])) >= 6"
    r = httpx.post(url + "/api/v1/query", data={"query": q}, timeout=5.0).json()
    res = r["data"]["result"]
    return bool(res) and float(res[0]["value"][1]) >= n


async def measure(url: str, rounds: int) -> tuple[float, float, int, int]:
    """Median seconds per refresh: (plugin, bare loop, requests per refresh, functions)."""
    forms: list[dict[str, str]] = []

    async def record(request: httpx.Request) -> None:
        body = await request.aread()
        forms.append(dict(httpx.QueryParams(body.decode())))

    async with (
        httpx.AsyncClient(timeout=30.0) as http,
        httpx.AsyncClient(timeout=30.0, event_hooks={"request": [record]}) as recording,
    ):
        ctx = PluginContext(http=http, secret=lambda n: n, clock=time.time)
        plugin = PrometheusPlugin("prom", {"url": url, **OPTS}, ctx)
        functions = await plugin.functions()
        rec = PrometheusPlugin(
            "prom",
            {"url": url, **OPTS},
            PluginContext(http=recording, secret=lambda n: n, clock=time.time),
        )
        await rec.signals(functions, "5m")
        queries = list(forms)

        async def bare() -> None:
            async def one(form: dict[str, str]) -> object:
                r = await http.post(url + "/api/v1/query", data=form)
                return r.json()

            await asyncio.gather(*(one(f) for f in queries))

        async def ours() -> None:
            out = await plugin.signals(functions, "5m")
            assert len(out) == len(functions)

        await ours()
        await bare()  # warm both paths
        t_plugin: list[float] = []
        t_bare: list[float] = []
        for _ in range(rounds):  # interleaved, so drift hits both alike
            for fn, times in ((ours, t_plugin), (bare, t_bare)):
                start = time.perf_counter()
                await fn()
                times.append(time.perf_counter() - start)
        return statistics.median(t_plugin), statistics.median(t_bare), len(queries), len(functions)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--sizes", type=int, nargs="*", default=[100, 2000])
    args = ap.parse_args()
    if servers.find_binary(servers.PROMETHEUS) is None:
        sys.exit(f"{servers.PROMETHEUS} is not installed")
    print(f"{'functions':>9}  {'requests':>8}  {'plugin ms':>9}  {'bare ms':>8}  {'ratio':>5}")
    for n in args.sizes:
        with (
            tempfile.TemporaryDirectory() as tmp,
            app.serve(app.bulk(n)) as target,
            servers.prometheus(Path(tmp) / "prom", [target]) as prom,
        ):
            servers.wait_until(partial(_ready, prom.url, n), 60, f"{n} functions scraped")
            ours, bare, reqs, nfn = asyncio.run(measure(prom.url, args.rounds))
        print(f"{nfn:>9}  {reqs:>8}  {ours * 1000:>9.1f}  {bare * 1000:>8.1f}  {ours / bare:>5.2f}")


if __name__ == "__main__":
    main()
