"""Real exporter apps (tests/integration/apps), one Prometheus scraping them all, a load.

Each app runs in its own process on a free loopback port, as its Prometheus job of the
same name. :func:`drive` sends the known load (:data:`CYCLE` × :data:`CYCLES`) to every
app at once, and after each cycle waits until Prometheus has scraped every target again,
so the counters grow over many scrapes (``rate()`` needs that) and the last scrape has all
of the load.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path

import httpx

from tests.integration import servers

ROOT = Path(__file__).resolve().parents[2]
#: One cycle of the load, sent to every app: (path, status code). 20 requests.
CYCLE: tuple[tuple[str, int], ...] = (
    *((("/pay", 200),) * 9),
    ("/pay", 500),
    *((("/login", 200),) * 3),
    ("/login", 401),
    *((("/orders/{n}", 200),) * 4),
    ("/orders/{n}", 429),
    ("/slow", 200),
)
CYCLES = 10  # 200 requests per app


def truth() -> dict[str, dict[int, int]]:
    """Requests per route template and status code that :func:`drive` sends to each app."""
    out: dict[str, dict[int, int]] = {}
    for path, code in CYCLE:
        route = path.split("/{")[0]
        out.setdefault(route, {}).setdefault(code, 0)
        out[route][code] += CYCLES
    return out


def _app_env(kind: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    if kind == "otel_new":
        env["OTEL_SEMCONV_STABILITY_OPT_IN"] = "http"
    return env


@contextmanager
def app(kind: str, workdir: Path, timeout: float = 30.0) -> Iterator[str]:
    """Run one app; yields ``host:port`` once ``/metrics`` answers; stops it on exit."""
    port = servers.free_port()
    log = workdir / f"{kind}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.apps.serve", kind, str(port)],
            cwd=ROOT,
            env=_app_env(kind),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    target = f"127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} app exited: {log.read_text()[-2000:]}")
        return httpx.get(f"http://{target}/metrics", timeout=1.0).status_code == 200

    try:
        servers.wait_until(up, timeout, f"the {kind} app on {target}")
        yield target
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def prometheus_config(jobs: Mapping[str, str], scrape: str = "1s") -> str:
    """One job per app (named after its kind), every one scraped every ``scrape``."""
    lines = [f"global:\n  scrape_interval: {scrape}\n  scrape_timeout: {scrape}\nscrape_configs:"]
    for job, target in jobs.items():
        lines.append(f"  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']")
    return "\n".join(lines) + "\n"


def scraped_after(prom: str, t: float, job: str = "") -> bool:
    """Every target's (or ``job``'s) last scrape started after ``t`` (Unix seconds)."""
    q = f'min(timestamp(up{{job="{job}"}}))' if job else "min(timestamp(up))"
    r = httpx.post(prom + "/api/v1/query", data={"query": q}, timeout=2.0).json()
    result = r["data"]["result"]
    return bool(result) and float(result[0]["value"][1]) > t


def _cycle(client: httpx.Client, base: str, cycle: int, pool: ThreadPoolExecutor) -> None:
    """One cycle: its fast requests in one quick burst, ``/slow`` beside them."""
    slow = [pool.submit(client.get, base + p) for p, _ in CYCLE if p == "/slow"]
    for i, (path, code) in enumerate(CYCLE):
        if path == "/slow":
            continue
        url = base + path.format(n=1000 + cycle * len(CYCLE) + i) + f"?code={code}"
        assert client.get(url).status_code == code
    for f in slow:
        assert f.result().status_code == 200


def _first(
    prom: str, job: str, client: httpx.Client, base: str, cycle: int, pool: ThreadPoolExecutor
) -> None:
    """The first cycle, sent just after the app's own scrape: the burst that creates every
    series is then whole in each series' first sample, whose share of each status code is
    the mix's (``rate()`` only counts what comes after a series' first sample)."""
    mark = time.time()
    servers.wait_until(partial(scraped_after, prom, mark, job), 15, f"a {job} scrape", 0.02)
    _cycle(client, base, cycle, pool)


def drive(prom: str, targets: Mapping[str, str]) -> None:
    """Send the known load to every app, waiting for a scrape of all after each cycle."""
    with ExitStack() as es:
        pool = es.enter_context(ThreadPoolExecutor(max_workers=3 * len(targets)))
        clients = {k: es.enter_context(httpx.Client(timeout=10.0)) for k in targets}
        for cycle in range(CYCLES):
            jobs = []
            for k, t in targets.items():
                run: Callable[[httpx.Client, str, int, ThreadPoolExecutor], None] = (
                    partial(_first, prom, k) if cycle == 0 else _cycle
                )
                jobs.append(pool.submit(run, clients[k], f"http://{t}", cycle, pool))
            for j in jobs:
                j.result()
            servers.wait_until(partial(scraped_after, prom, time.time()), 15, "a new scrape")
