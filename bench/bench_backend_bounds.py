"""Measure a huge Prometheus answer: decode time, event-loop stall, memory afterwards.

    .venv/bin/python bench/bench_backend_bounds.py [SERIES]

Serves SERIES (default 200,000) vector series through ``httpx.MockTransport`` to the
Prometheus plugin with ``max_response_bytes`` raised to fit, and reports side by side:

- the floor: a plain ``json.loads`` of the same body;
- ``HttpBackend.adecode`` of it (a worker thread) and the longest gap a 5 ms ticker on the
  event loop saw meanwhile (what a key press would wait);
- RSS before the answer, at its peak, and after it was dropped (``malloc_trim``);
- a call with ``timeout=3`` whose parse is made to take longer: its wall time vs 3 s;
- ``callboard status`` against a loopback server answering every query with that body,
  ``timeout: 3s``: its wall time vs the same against a backend that never answers (start-up
  plus the timeout; best of 3 each). Before this change: 13.7 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from console.engine.fleet import resilience
from console.engine.fleet.httpbackend import HttpBackend


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def body_of(n: int) -> bytes:
    series = [
        {
            "metric": {"cb_service": f"svc-{i % 500}", "cb_route": f"/r/{i}", "cb_method": "GET",
                       "cb_code": "200", "instance": "10.0.0.1:9090"},
            "value": [1733232000.123, str(i * 0.5)],
        }
        for i in range(n)
    ]  # fmt: skip
    return json.dumps(
        {"status": "success", "data": {"resultType": "vector", "result": series}}
    ).encode()


async def stall_during(coro: object) -> tuple[float, float]:
    """(seconds the awaitable took, the longest gap between 5 ms ticks meanwhile)."""
    gaps: list[float] = []
    stop = False

    async def ticker() -> None:
        last = time.perf_counter()
        while not stop:  # bounded by the awaited call
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    started = time.perf_counter()
    await coro  # type: ignore[misc]
    took = time.perf_counter() - started
    stop = True
    await tick
    return took, max(gaps, default=0.0)


async def main(n: int) -> None:
    body = body_of(n)
    print(f"{n:,} series, {len(body) / 1e6:.1f} MB body")
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=body))
    )
    hb = HttpBackend({"url": "http://prom.test", "max_response_bytes": 1 << 30}, http, lambda s: "")
    floors, tooks, stalls, loads_stalls = [], [], [], []
    before = rss_mb()
    for _ in range(3):  # best of 3, alternating: this machine's load swings run to run
        gc.collect()
        started = time.perf_counter()
        json.loads(body)
        floors.append(time.perf_counter() - started)
        # the old way, for comparison: json.loads on the loop's thread blocks it throughout
        _, stall_plain = await stall_during(asyncio.to_thread(json.loads, body))
        loads_stalls.append(stall_plain)
        _, raw, _ = await hb.request("GET", "/api/v1/query")
        took, stall = await stall_during(hb.adecode(raw))
        tooks.append(took)
        stalls.append(stall)
        del raw
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gc.collect()
    await asyncio.sleep(3.0)  # the deferred malloc_trim (2 s after a large decode)
    after = rss_mb()
    floor, took = min(floors), min(tooks)
    print(f"json.loads floor          {floor:7.3f} s  (best of 3)")
    print(f"adecode (thread)          {took:7.3f} s  ({took / floor:.2f}x the floor, best of 3)")
    print(
        f"longest event-loop stall  {max(stalls) * 1000:7.1f} ms with adecode; "
        f"{max(loads_stalls) * 1000:.0f} ms with json.loads in a thread (5 ms ticks, worst of 3)"
    )
    print(f"RSS before / peak / after {before:7.0f} / {peak:.0f} / {after:.0f} MB")

    release = threading.Event()

    async def slow() -> object:
        _, raw2, _ = await hb.request("GET", "/")
        return await hb.aparse(lambda d: release.wait(30.0) and d, raw2, "/")

    started = time.perf_counter()
    try:
        await resilience.call(slow, timeout=3.0, attempts=1)
    except resilience.CallTimeout as exc:
        print(f"timeout 3s, slow parse    {time.perf_counter() - started:7.3f} s  ({exc})")
    finally:
        release.set()
    await http.aclose()


def status_wall_time(body: bytes | None) -> float:
    """``callboard status`` with ``timeout: 3s`` against a server sending ``body``, or
    (``None``, the floor) never answering: process start-up plus the timeout."""
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            if body is None:
                stop.wait(60.0)  # bounded: hang until the measurement is over
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client gave up (its timeout)
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "c.yaml"
        cfg.write_text(
            "backends:\n  - {name: prom, plugin: prometheus, timeout: 3s,"
            f" max_response_bytes: 1073741824, url: 'http://127.0.0.1:{server.server_address[1]}'}}\n"
        )
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "console.cli", "--config", str(cfg), "--db",
             str(Path(tmp) / "x.db"), "status"],
            capture_output=True, text=True, check=False, timeout=300,
            env={**os.environ, "CALLBOARD_LOG_FILE": os.devnull},
        )  # fmt: skip
        took = time.perf_counter() - started
    stop.set()
    server.shutdown()
    server.server_close()
    line = next((ln for ln in proc.stdout.splitlines() if "backend prom" in ln), proc.stderr[-200:])
    what = "hanging backend" if body is None else "huge answer"
    print(f"status, {what:<17} {took:7.3f} s: {line.strip()}")
    return took


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    asyncio.run(main(n))
    # best of 3 each, alternating: this machine's load swings run to run
    big = body_of(n)
    floors, tooks = [], []
    for _ in range(3):
        floors.append(status_wall_time(None))
        tooks.append(status_wall_time(big))
    floor, took = min(floors), min(tooks)
    print(f"status, huge answer / hanging backend: {took / floor:.2f}x (timeout 3s in both)")
