"""Trace benchmarks: parse + first error of a 10,000-span trace, and receiver throughput.

Run: ``.venv/bin/python bench/bench_traces.py``. Prints the figures; nothing is asserted.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import time
from pathlib import Path

import httpx

from console.core import traces
from console.core.model import Trace
from console.core.otlp import parse_resource_spans
from console.engine.otlp.receiver import OtlpReceiver
from console.engine.otlp.spanstore import SpanStore
from console.engine.store.sqlite import Store

N = 10_000
T0 = 1_700_000_000 * 10**9


def otlp_json(n: int, trace_no: int = 1, seed: int = 7) -> dict[str, object]:
    """One trace of ``n`` spans as OTLP JSON: a random tree, ~2% errors, a few attributes."""
    rng = random.Random(seed)
    tid = f"{trace_no:032X}"
    spans = []
    for i in range(n):
        parent = rng.randrange(i) if i else None
        span: dict[str, object] = {
            "traceId": tid,
            "spanId": f"{i + 1:016X}",
            "name": f"op {i % 50}",
            "kind": 2 if i == 0 else 3,
            "startTimeUnixNano": str(T0 + i * 1000),
            "endTimeUnixNano": str(T0 + i * 1000 + 500),
            "attributes": [
                {"key": "http.status_code", "value": {"intValue": "200"}},
                {"key": "peer", "value": {"stringValue": f"svc-{i % 13}"}},
            ],
            "status": {"code": 2 if rng.random() < 0.02 else 0},
        }
        if parent is not None:
            span["parentSpanId"] = f"{parent + 1:016X}"
        spans.append(span)
    res = {"attributes": [{"key": "service.name", "value": {"stringValue": "bench"}}]}
    return {"resourceSpans": [{"resource": res, "scopeSpans": [{"spans": spans}]}]}


def bench_parse() -> None:
    doc = otlp_json(N)
    raw = json.dumps(doc).encode()
    runs = []
    for _ in range(5):
        traces._norm_id.cache_clear()  # measure cold: a new trace's span ids are all new
        t = time.perf_counter()
        batch = parse_resource_spans(json.loads(raw)["resourceSpans"])
        tr = traces.finalize(Trace(batch.spans[0].trace_id, tuple(batch.spans)))
        runs.append(time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(5):
        traces.first_error_span(tr.spans)
    first_only = (time.perf_counter() - t) / 5
    print(
        f"parse + finalize (tree, first error) of a {N}-span OTLP JSON trace: "
        f"median {sorted(runs)[2] * 1e3:.0f} ms (first error alone {first_only * 1e3:.0f} ms)"
    )


async def bench_receiver(requests: int = 40, per_request: int = 1000, concurrency: int = 4) -> None:
    with tempfile.TemporaryDirectory() as d:
        spans = SpanStore(Store(Path(d) / "bench.db"), max_spans=100_000)
        rx = OtlpReceiver(spans, port=0)
        _, port = await rx.start()
        url = f"http://127.0.0.1:{port}/v1/traces"
        bodies = [
            json.dumps(otlp_json(per_request, trace_no=i + 1, seed=i)).encode()
            for i in range(requests)
        ]
        sem = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(timeout=60) as c:

            async def send(body: bytes) -> int:
                async with sem:
                    r = await c.post(
                        url, content=body, headers={"Content-Type": "application/json"}
                    )
                    return r.status_code

            t = time.perf_counter()
            codes = await asyncio.gather(*(send(b) for b in bodies))
            elapsed = time.perf_counter() - t
        await rx.stop()
        stored = spans.count()
    total = requests * per_request
    print(
        f"receiver (OTLP JSON over loopback, {concurrency} clients, {per_request} spans/request, "
        f"SQLite on disk): {total / elapsed:,.0f} spans/s ({total} spans in {elapsed:.2f} s; "
        f"statuses {sorted(set(codes))}; {stored} stored)"
    )


if __name__ == "__main__":
    bench_parse()
    asyncio.run(bench_receiver())
