"""What the embedded OTLP receiver sustains: spans/s and metric data points/s, on one core,
with its memory — against floors measured side by side on the same bodies.

Run: ``.venv/bin/python bench/bench_otlp_ingest.py [--bodies N]``. Prints the figures;
nothing is asserted.

The receiver runs as the console runs it: its own process (``console.engine.otlp.child``)
writing an SQLite file on disk, so its CPU time and peak RSS are its own (read from
``/proc``). The bodies are what the OpenTelemetry SDK sends: ``ExportTraceServiceRequest``
batches of 512 spans (the BatchSpanProcessor's default; a quarter SERVER spans with HTTP
attributes, so function-health tallies run too) and ``ExportMetricsServiceRequest``
collections of 300 cumulative ``http.server.request.duration`` histograms (100 routes × 3
status codes), each collection later than the one before. Two clients post them over
keep-alive connections.

"Per CPU-second" is items divided by the receiver process's user + system time: what one
core sustains. Floors, on the same bodies: the C protobuf library's parse alone (what no
Python decoder can beat), ``json.loads`` of the JSON form, and a bare asyncio HTTP server
that reads each body and answers 200 (the transport alone) — its throughput is the most
any receiver on this loop and this client could reach.

The OpenTelemetry Collector's published figure, for comparison in the README: 10,000 spans/s
at ≤ 20% of one CPU and ~100 MiB (its performance page), i.e. ~50,000 spans per CPU-second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

PB = {"Content-Type": "application/x-protobuf"}
SPANS_PER_BODY = 512
BOUNDS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
TICK = os.sysconf("SC_CLK_TCK")


def span_bodies(n: int) -> list[bytes]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("bench")
    out = []
    for b in range(n):
        for i in range(SPANS_PER_BODY // 4):
            route = f"/r/{(b * 7 + i) % 50}"
            attrs = {"http.request.method": "GET", "http.route": route,
                     "http.response.status_code": 500 if i % 50 == 0 else 200}  # fmt: skip
            with tracer.start_as_current_span(f"GET {route}", kind=SpanKind.SERVER) as s:
                s.set_attributes(attrs)
                for k in range(3):
                    with tracer.start_as_current_span(f"db {k}", kind=SpanKind.CLIENT) as c:
                        c.set_attribute("db.system", "postgresql")
        out.append(bytes(encode_spans(exporter.get_finished_spans()).SerializeToString()))
        exporter.clear()
    provider.shutdown()
    return out


def metric_bodies(n: int) -> list[bytes]:
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        resource=Resource.create({"service.name": "bench"}), metric_readers=[reader]
    )
    h = provider.get_meter("bench").create_histogram(
        "http.server.request.duration", unit="s", explicit_bucket_boundaries_advisory=BOUNDS_S
    )
    out = []
    for b in range(n):
        for r in range(100):
            for code in (200, 429, 500):
                h.record(0.01 * (1 + (b + r) % 40), {"http.route": f"/m/{r}",
                         "http.request.method": "GET", "http.response.status_code": code})  # fmt: skip
        data = reader.get_metrics_data()
        assert data is not None
        out.append(bytes(encode_metrics(data).SerializeToString()))
    provider.shutdown()
    return out


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def _hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


async def _child(args: list[str]) -> tuple[asyncio.subprocess.Process, int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    word, _, rest = (await proc.stdout.readline()).decode().strip().partition(" ")
    assert word == "listening", (word, rest)
    return proc, int(rest.rpartition(" ")[2])


async def _stop(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        await asyncio.wait_for(proc.wait(), 10)
    except TimeoutError:
        proc.kill()
        await proc.wait()


async def _post_all(url: str, bodies: list[bytes], clients: int = 2) -> tuple[float, set[int]]:
    queue = list(reversed(bodies))
    codes: set[int] = set()

    async def client() -> None:
        async with httpx.AsyncClient(timeout=120) as c:
            while queue:
                r = await c.post(url, content=queue.pop(), headers=PB)
                codes.add(r.status_code)

    t = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - t, codes


async def run_receiver(path: str, bodies: list[bytes], items: int, db: str) -> dict[str, Any]:
    proc, port = await _child(["-m", "console.engine.otlp.child", f"--db={db}", "--port=0",
                               "--max-spans=1000000"])  # fmt: skip
    try:
        await _post_all(f"http://127.0.0.1:{port}{path}", bodies[:2])  # warm up (imports, schema)
        cpu0 = _cpu(proc.pid)
        wall, codes = await _post_all(f"http://127.0.0.1:{port}{path}", bodies[2:])
        cpu = _cpu(proc.pid) - cpu0
        hwm = _hwm(proc.pid)
    finally:
        await _stop(proc)
    n = items * (len(bodies) - 2) // len(bodies)
    return {"items": n, "wall_s": wall, "cpu_s": cpu, "per_s": n / wall,
            "per_cpu_s": n / cpu if cpu else None, "cpu_share": cpu / wall, "rss_mib": hwm / 2**20,
            "codes": sorted(codes)}  # fmt: skip


BARE = r"""
import asyncio, sys
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            n = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    n = int(line.split(b":")[1])
            await reader.readexactly(n)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                         b"Content-Length: 0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print("listening 127.0.0.1", server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    r = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(r), sys.stdin)
    await r.read()
asyncio.run(main())
"""


async def run_bare(bodies: list[bytes], items: int) -> dict[str, Any]:
    proc, port = await _child(["-c", BARE])
    try:
        await _post_all(f"http://127.0.0.1:{port}/", bodies[:2])
        cpu0 = _cpu(proc.pid)
        wall, _ = await _post_all(f"http://127.0.0.1:{port}/", bodies[2:])
        cpu = _cpu(proc.pid) - cpu0
    finally:
        await _stop(proc)
    n = items * (len(bodies) - 2) // len(bodies)
    return {"per_s": n / wall, "per_cpu_s": n / cpu if cpu else None, "cpu_share": cpu / wall}


def parse_floor(bodies: list[bytes], items: int, message: Any) -> dict[str, float]:
    t = time.process_time()
    for b in bodies:
        message.FromString(b)
    pb = time.process_time() - t
    texts = [json.dumps(MessageToDict(message.FromString(b))).encode() for b in bodies]
    t = time.process_time()
    for j in texts:
        json.loads(j)
    js = time.process_time() - t
    return {"protobuf_per_cpu_s": items / pb, "json_loads_per_cpu_s": items / js}


def show(
    label: str, unit: str, rx: dict[str, Any], bare: dict[str, Any], floor: dict[str, float]
) -> None:
    print(f"{label}: {rx['items']:,} {unit} in {rx['wall_s']:.2f} s, statuses {rx['codes']}")
    print(f"  receiver: {rx['per_s']:,.0f} {unit}/s wall, {rx['per_cpu_s']:,.0f} {unit} per "
          f"CPU-second (CPU {rx['cpu_share'] * 100:.0f}% of one core), peak RSS "
          f"{rx['rss_mib']:.0f} MiB")  # fmt: skip
    print(f"  floor, bare asyncio HTTP server (transport only): {bare['per_s']:,.0f} {unit}/s "
          f"wall, {bare['per_cpu_s'] or 0:,.0f} per CPU-second")  # fmt: skip
    print(f"  floor, C protobuf parse alone: {floor['protobuf_per_cpu_s']:,.0f} {unit} per "
          f"CPU-second; json.loads of the JSON form: {floor['json_loads_per_cpu_s']:,.0f}")  # fmt: skip
    print(f"  ratio receiver / bare server (wall): {rx['per_s'] / bare['per_s']:.2f}")


def refresh_cost(functions: int) -> tuple[float, int]:
    """(ms per HealthStore.signals over every function, tally rows in the store): each
    function with a span in each of the last 70 minutes and each of the last 74 hours."""
    from console.core.model import Span
    from console.engine.otlp.health import HealthStore
    from console.engine.store.sqlite import Store

    now = 1_800_000_000.0
    with tempfile.TemporaryDirectory() as d:
        store = Store(Path(d) / "r.db")
        hs = HealthStore(store, clock=lambda: now, max_functions=functions + 1)
        ages = [m * 60 + 5 for m in range(70)] + [h * 3600 + 5 for h in range(2, 74)]
        attrs = {"http.request.method": "GET", "http.response.status_code": 200}
        for f in range(functions):
            hs.add_spans([
                Span(f"{f:016x}{i:016x}", f"{i:016x}", None, "svc", "GET",
                     int((now - age) * 1e9), 10_000_000, kind="server",
                     attributes={**attrs, "http.route": f"/f/{f}"})
                for i, age in enumerate(ages)
            ])  # fmt: skip
        rows = int(store.tuples("SELECT COUNT(*) FROM red_tallies")[0][0])
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            got = hs.signals("5m")
            runs.append(time.perf_counter() - t)
        assert len(got) == functions
        store.close()
    return sorted(runs)[2] * 1e3, rows


async def main(n: int) -> None:
    for f in (100, 1000):
        ms, rows = refresh_cost(f)
        print(f"health read per refresh, {f:,} functions ({rows:,} tally rows): {ms:.1f} ms "
              f"({ms * 1e3 / f:.0f} µs per function)")  # fmt: skip
    spans = span_bodies(n)
    metrics = metric_bodies(n)
    n_spans = SPANS_PER_BODY * len(spans)
    n_points = 300 * len(metrics)
    with tempfile.TemporaryDirectory() as d:
        rx_s = await run_receiver("/v1/traces", spans, n_spans, str(Path(d) / "s.db"))
        bare_s = await run_bare(spans, n_spans)
        rx_m = await run_receiver("/v1/metrics", metrics, n_points, str(Path(d) / "m.db"))
        bare_m = await run_bare(metrics, n_points)
    show("spans", "spans", rx_s, bare_s, parse_floor(spans, n_spans, ExportTraceServiceRequest))
    show("metric data points", "points", rx_m, bare_m,
         parse_floor(metrics, n_points, ExportMetricsServiceRequest))  # fmt: skip
    print("OpenTelemetry Collector (published): 10,000 spans/s at <= 20% of a CPU, ~100 MiB "
          "(~50,000 spans per CPU-second)")  # fmt: skip


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--bodies", type=int, default=100, help="bodies of each kind (default 100)")
    asyncio.run(main(p.parse_args().bodies))
