"""Log records per second the embedded receiver sustains on one core, with its memory.

    .venv/bin/python bench/bench_otlp_logs.py [--batches 200] [--records 512]

The receiver is what the console runs: ``console.engine.otlp.child`` in its own process,
pinned to CPU 0, SQLite on disk (WAL), default limits and retention. This process is
pinned to CPU 1 and posts ``--batches`` protobuf ``ExportLogsServiceRequest`` bodies of
``--records`` records each (the SDK's default batch: 512), four connections at once, as
fast as the receiver answers. Each record is what an SDK logging bridge sends: a time,
severity, a ~100-character body, five attributes, trace and span ids.

Reported, all from the same run:

- records/s: records stored ÷ wall time; records per CPU-second of the receiver (from
  ``/proc/PID/stat``: what one core sustains when nothing else wants it, steadier than
  wall time on a shared machine), also as "% of one CPU at 10,000 records/s" — the figure the
  OpenTelemetry Collector publishes for spans (10,000/s at ≤ 20% of a CPU, ~100 MiB);
- memory: the receiver's peak RSS (``VmHWM``) and its RSS before the load;
- the floors beside it: the same count of spans to ``/v1/traces`` of the same receiver
  (spans/s), and upb (the protobuf library's C decoder) parsing the same bodies in this
  process — the least any Python receiver could spend on decoding alone;
- retention: one write of 512 records into a store at its cap of 200,000 (so each write
  also deletes 512), against the same write into a store below its cap (no delete).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

PB = {"Content-Type": "application/x-protobuf"}
MiB = 1024 * 1024
CONNECTIONS = 4


def _kv(key: str, value: str | int) -> KeyValue:
    v = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=value)
    return KeyValue(key=key, value=v)


def logs_body(n: int, seed: int) -> bytes:
    """An ExportLogsServiceRequest of ``n`` records (one resource, one scope)."""
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.extend([_kv("service.name", "checkout"), _kv("host.name", "web-1")])
    sl = rl.scope_logs.add()
    sl.scope.name = "checkout.payments"
    base = 1_700_000_000_000_000_000 + seed * 10**9
    rng = random.Random(seed)
    trace = b""
    for i in range(n):
        r = sl.log_records.add()
        r.time_unix_nano = base + i * 1000
        r.observed_time_unix_nano = base + i * 1000 + 50
        r.severity_number = 17 if i % 20 == 0 else 9
        r.severity_text = "ERROR" if i % 20 == 0 else "INFO"
        r.body.string_value = (
            f"charged order {seed}-{i} for customer c{i % 977}: card ending 4242 ok"
        )
        r.attributes.extend(
            [
                _kv("code.function", "charge"),
                _kv("code.lineno", 120 + i % 7),
                _kv("order.id", f"{seed}-{i}"),
                _kv("http.route", "/pay"),
                _kv("thread.name", "worker-3"),
            ]
        )
        trace = rng.randbytes(16) if i % 8 == 0 else trace  # eight records per trace
        r.trace_id = trace
        r.span_id = rng.randbytes(8)  # random, as an SDK's ids are
        r.flags = 1
    return bytes(req.SerializeToString())


def spans_body(n: int, seed: int) -> bytes:
    """An ExportTraceServiceRequest of ``n`` spans of about the same size, for the floor."""
    req = ExportTraceServiceRequest()
    rs = req.resource_spans.add()
    rs.resource.attributes.extend([_kv("service.name", "checkout"), _kv("host.name", "web-1")])
    ss = rs.scope_spans.add()
    base = 1_700_000_000_000_000_000 + seed * 10**9
    rng = random.Random(seed)
    trace = b""
    for i in range(n):
        s = ss.spans.add()
        trace = rng.randbytes(16) if i % 8 == 0 else trace
        s.trace_id = trace
        s.span_id = rng.randbytes(8)
        s.name = f"charge order {seed}-{i}"
        s.kind = 2
        s.start_time_unix_nano = base + i * 1000
        s.end_time_unix_nano = base + i * 1000 + 5_000_000
        s.attributes.extend(
            [
                _kv("code.function", "charge"),
                _kv("code.lineno", 120 + i % 7),
                _kv("order.id", f"{seed}-{i}"),
                _kv("http.route", "/pay"),
                _kv("thread.name", "worker-3"),
            ]
        )
    return bytes(req.SerializeToString())


def _proc(pid: int) -> tuple[float, int, int]:
    """(CPU seconds, VmRSS, VmHWM) of ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / tick
    mem = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            mem[key] = int(value.split()[0]) * 1024
    return cpu, mem["VmRSS"], mem["VmHWM"]


def _start(db: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.engine.otlp.child", f"--db={db}", "--port=0",
         "--max-logs=1000000", "--max-spans=1000000"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {0}),
    )  # fmt: skip
    assert proc.stdout is not None
    word, host, port = proc.stdout.readline().split()
    assert word == "listening", (word, host, port)
    return proc, f"http://{host}:{port}"


async def _post_all(url: str, bodies: list[bytes]) -> float:
    """Post every body over CONNECTIONS connections; returns the wall time."""
    queue = list(reversed(bodies))

    async def worker(c: httpx.AsyncClient) -> None:
        while queue:
            body = queue.pop()
            r = await c.post(url, content=body, headers=PB)
            if r.status_code != 200 or r.content:
                raise SystemExit(f"receiver answered {r.status_code} {r.content[:200]!r}")

    limits = httpx.Limits(max_connections=CONNECTIONS)
    async with httpx.AsyncClient(timeout=120, limits=limits) as c:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(c) for _ in range(CONNECTIONS)))
        return time.perf_counter() - t0


def _run(path: str, bodies: list[bytes], n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = _start(Path(tmp) / "bench.db")
        try:
            asyncio.run(_post_all(base + path, bodies[:3]))  # warm up (imports, caches)
            cpu0, rss0, _ = _proc(proc.pid)
            wall = asyncio.run(_post_all(base + path, bodies))
            cpu1, _, hwm = _proc(proc.pid)
        finally:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(timeout=30)
    cpu = cpu1 - cpu0
    return {
        "per_s": round(n / wall),
        "per_cpu_s": round(n / cpu),
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "cpu_pct_at_10k_per_s": round(cpu / n * 10_000 * 100, 1),
        "rss_before_mib": round(rss0 / MiB, 1),
        "peak_rss_mib": round(hwm / MiB, 1),
    }


def _write_cost(at_cap: bool, records: list[Any], rounds: int = 40) -> float:
    """Median CPU seconds of one LogStore.add of a batch like ``records`` (with its
    retention), into a store already holding 200,000 records: at its cap (each write then
    deletes as many) or below it. Every batch has fresh random ids, as real ones do. CPU,
    not wall, so other work on the machine does not move it."""
    import statistics
    from dataclasses import replace

    from console.engine.otlp.logstore import LogStore
    from console.engine.store.sqlite import Store

    cap = 200_000
    rng = random.Random(7)

    def fresh() -> list[Any]:
        out, trace = [], ""
        for i, r in enumerate(records):
            trace = rng.randbytes(16).hex() if i % 8 == 0 else trace
            out.append(replace(r, trace_id=trace, span_id=rng.randbytes(8).hex()))
        return out

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "prune.db")
        logs = LogStore(store, max_records=cap if at_cap else 10 * cap)
        for _ in range(cap // len(records)):  # fill to the cap first
            logs.add(fresh())
        took = []
        for _ in range(rounds):
            batch = fresh()
            t0 = time.process_time()
            logs.add(batch)
            took.append(time.process_time() - t0)
        assert not at_cap or logs.count() == cap
        store.close()
    return statistics.median(took)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--batches", type=int, default=200)
    p.add_argument("--records", type=int, default=512)
    args = p.parse_args()
    os.sched_setaffinity(0, {1})
    n = args.batches * args.records
    logs = [logs_body(args.records, i) for i in range(args.batches)]
    spans = [spans_body(args.records, i) for i in range(args.batches)]
    t0 = time.perf_counter()
    for body in logs:
        ExportLogsServiceRequest.FromString(body)
    upb = time.perf_counter() - t0
    from console.core.otlp_logs import LogLimits
    from console.engine.otlp.logdecode import decode_logs_body

    batch = decode_logs_body(logs[0], PB["Content-Type"], gzip=False, max_decoded=0,
                             limits=LogLimits()).records  # fmt: skip
    below, at_cap = _write_cost(False, list(batch)), _write_cost(True, list(batch))
    got_logs = _run("/v1/logs", logs, n)
    got_spans = _run("/v1/traces", spans, n)
    out = {
        "records": n,
        "body_kib": round(len(logs[0]) / 1024, 1),
        "logs": got_logs,
        "spans_floor": got_spans,
        "upb_parse_per_s": round(n / upb),
        "logs_vs_spans": round(got_logs["per_s"] / got_spans["per_s"], 2),
        "write_512_below_cap_ms": round(below * 1000, 2),
        "write_512_at_cap_ms": round(at_cap * 1000, 2),
    }
    print(
        f"{n} log records in batches of {args.records} ({out['body_kib']} KiB), "
        f"{CONNECTIONS} connections, receiver pinned to one core:\n"
        f"  logs   {got_logs['per_s']:>8,} records/s  ({got_logs['per_cpu_s']:,} per CPU-second) "
        f"receiver CPU {got_logs['cpu_s']} s "
        f"({got_logs['cpu_pct_at_10k_per_s']}% of a core at 10,000/s), "
        f"RSS {got_logs['rss_before_mib']} → peak {got_logs['peak_rss_mib']} MiB\n"
        f"  spans  {got_spans['per_s']:>8,} spans/s    ({got_spans['per_cpu_s']:,} per CPU-second) "
        f"receiver CPU {got_spans['cpu_s']} s "
        f"({got_spans['cpu_pct_at_10k_per_s']}% of a core at 10,000/s), "
        f"peak {got_spans['peak_rss_mib']} MiB   (floor: same receiver, same run)\n"
        f"  upb    {out['upb_parse_per_s']:>8,} records/s  parse only, C (floor)\n"
        f"  logs / spans: {out['logs_vs_spans']}×\n"
        f"  retention: a write of {len(batch)} records {at_cap * 1000:.2f} ms CPU at the 200,000 cap "
        f"(deleting {len(batch)}) vs {below * 1000:.2f} ms below it: {at_cap / below:.2f}×"
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
