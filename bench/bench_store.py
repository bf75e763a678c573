"""The store on each engine, side by side: append latency, export, ``audit verify``.

    .venv/bin/python bench/bench_store.py [--appends N] [--export N] [--rounds K] [--verify N]
                                          [--sync]

Starts a throwaway PostgreSQL cluster (tests/pg.py: Debian's binaries, a temp dir, a loopback
port; fsync on) and uses an SQLite file in a temp dir, then on each engine:

1. **append latency**: 1 and then 4 writer processes (4 consoles) each append N events
   (default 500) one by one through ``EventLog.append`` — a transaction each, the chain read
   and extended under the engine's lock; p50 and p99 of every append, and appends/s overall.
2. **export**: an incident of ``--export`` events (default 100,000; as bench_export.py)
   exported end to end in md and json, the engines interleaved, best of ``--rounds`` (3) —
   target ≤ 2 s; the PostgreSQL / SQLite ratio is the figure that survives a loaded machine.
3. **audit verify** over ``--verify`` events (default 0: skipped; 1000000 for the README).

``--appends 0`` or ``--export 0`` skips that part.

Durability is matched: SQLite's WAL with ``synchronous=NORMAL`` does not fsync on commit, so
PostgreSQL runs with ``synchronous_commit=off`` (the WAL is flushed within 200 ms; a crash
loses at most that, never consistency). ``--sync`` sets ``synchronous_commit=on`` instead.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_export import FNS, _at, synthetic
from console.core import events as ev
from console.engine.incidents.export import export_incident
from console.engine.incidents.lifecycle import open_incident, resolve
from console.engine.store.base import StoreLike
from console.engine.store.connect import open_store
from console.engine.store.events import EventLog
from tests.pg import APP_PASSWORD, PgCluster


def writer(url: str, n: int, actor: str) -> None:
    """Child: append ``n`` notes on INC-0001 one by one; print the latencies (s) as JSON."""
    store = open_store(url)
    log = EventLog(store, actor=actor)
    took: list[float] = []
    try:
        store.open()
        began = time.time()
        for i in range(n):
            t = time.perf_counter()
            log.append(ev.note(f"{actor} {i}").on(incident_id="INC-0001"))
            took.append(time.perf_counter() - t)
        ended = time.time()
    finally:
        store.close()
    print(json.dumps({"took": took, "began": began, "ended": ended}))


def appends(url: str, n: int, writers: int) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, appends/s overall) of ``writers`` processes × ``n`` appends."""
    env = {**os.environ, "PGPASSWORD": APP_PASSWORD}
    cmd = [sys.executable, __file__, "--writer", url, "--appends", str(n)]
    procs = [
        subprocess.Popen([*cmd, "--actor", f"w{k}"], stdout=subprocess.PIPE, text=True, env=env)
        for k in range(writers)
    ]
    lat: list[float] = []
    began, ended = [], []
    for p in procs:
        out, _ = p.communicate(timeout=1800)
        if p.returncode != 0:
            raise SystemExit(f"a writer failed ({p.returncode})")
        doc = json.loads(out)
        lat += doc["took"]
        began.append(doc["began"])
        ended.append(doc["ended"])
    wall = max(ended) - min(began)  # from the first append to the last, process starts left out
    q = statistics.quantiles(lat, n=100, method="inclusive")
    return q[49] * 1e3, q[98] * 1e3, len(lat) / wall


def fresh(cluster: PgCluster, tmp: Path, engine: str, name: str) -> tuple[str, StoreLike]:
    if engine == "sqlite":
        url = str(tmp / f"{name}.db")
        return url, open_store(url)
    url = cluster.url(cluster.create_db())
    return url, open_store(url, password=APP_PASSWORD, notice=lambda _m: None)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--appends", type=int, default=500)
    ap.add_argument("--export", type=int, default=100_000)
    ap.add_argument("--verify", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=3, help="export rounds (best of)")
    ap.add_argument("--sync", action="store_true")
    ap.add_argument("--writer", help=argparse.SUPPRESS)
    ap.add_argument("--actor", default="w", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.writer:
        writer(args.writer, args.appends, args.actor)
        return
    commit = "synchronous_commit=on" if args.sync else "synchronous_commit=off"
    cluster = PgCluster(fast=False, settings=(commit,)).start()
    print(f"PostgreSQL {cluster.bindir} (fsync on, {commit}); SQLite WAL, synchronous=NORMAL")
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            for engine in ("sqlite", "postgres") if args.appends else ():
                for writers in (1, 4):
                    url, store = fresh(cluster, tmp, engine, f"append{writers}")
                    open_incident(store, "Bench", list(FNS))
                    store.close()
                    p50, p99, rate = appends(url, args.appends, writers)
                    print(f"{engine:<8} append, {writers} writer(s) × {args.appends}: "
                          f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, {rate:,.0f} appends/s")  # fmt: skip
            if args.export:
                # both engines' incidents first, then the exports interleaved (sqlite, postgres,
                # sqlite, ...): a load change on this machine hits both alike
                made: dict[str, tuple[StoreLike, str, float]] = {}
                for engine in ("sqlite", "postgres"):
                    _, store = fresh(cluster, tmp, engine, "export")
                    inc = open_incident(store, "Bench", list(FNS), at=_at(0))
                    t = time.perf_counter()
                    EventLog(store).bulk_append(synthetic(args.export, inc.id))
                    made[engine] = (store, inc.id, time.perf_counter() - t)
                    resolve(store, inc.id, at=_at(args.export + 1))
                for fmt in ("md", "json"):
                    best = {engine: float("inf") for engine in made}
                    for _ in range(args.rounds):
                        for engine, (store, iid, _w) in made.items():
                            t = time.perf_counter()
                            export_incident(store, iid, fmt)
                            best[engine] = min(best[engine], time.perf_counter() - t)
                    for engine, took in best.items():
                        print(f"{engine:<8} export {fmt} of {args.export:,} events: {took:.2f}s "
                              f"end to end, best of {args.rounds} (written in "
                              f"{made[engine][2]:.1f}s, bulk)")  # fmt: skip
                    print(f"         postgres / sqlite: {best['postgres'] / best['sqlite']:.2f}×")
                for store, _i, _w in made.values():
                    store.close()
            if args.verify:
                for engine in ("sqlite", "postgres"):
                    _, store = fresh(cluster, tmp, engine, "verify")
                    t = time.perf_counter()
                    EventLog(store).bulk_append(synthetic(args.verify, "INC-0001"), batch=100_000)
                    wrote = time.perf_counter() - t
                    t = time.perf_counter()
                    result = EventLog(store).verify()
                    took = time.perf_counter() - t
                    print(f"{engine:<8} audit verify: {result.checked:,} events in {took:.2f}s "
                          f"({took / max(result.checked, 1) * 1e6:.2f} µs/event), ok={result.ok}"
                          f" (written in {wrote:.1f}s, bulk)")  # fmt: skip
                    store.close()
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
