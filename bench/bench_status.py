"""Bench: `callboard status --demo --json` at 50, 1,000 and 10,000 functions.

Prints wall time (best of N runs, a fresh process each) and peak RSS of the process, then
the core's per-refresh work (classify + burn rates + diagnose + snapshot) for 10,000
functions, measured in-process on signals the demo already produced.

Run: .venv/bin/python bench/bench_status.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time


def run_status(size: int, db: str) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one `callboard status --demo --json` process."""
    cmd = [
        sys.executable,
        "-m",
        "console.cli",
        "--db",
        db,
        "--demo-size",
        str(size),
        "status",
        "--json",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, check=False)
    wall = time.perf_counter() - t0
    if out.returncode not in (0, 1):
        raise SystemExit(out.stderr.decode())
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024.0


def core_cost(size: int, repeats: int = 5) -> float:
    """Best-of-N milliseconds of Fleet.build_snapshot over `size` demo functions."""
    from console.config import load_config
    from console.engine.fleet.build import build_fleet

    fleet = build_fleet(load_config(None), demo=True, demo_size=size)
    asyncio.run(fleet.refresh())
    (backend,) = fleet.backends
    functions = backend.cache["functions"]
    signals = backend.cache["signals"]
    baselines = backend.cache.get("baselines") or {}
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fleet.build_snapshot(functions, signals, baselines, [], {}, time.time())
        best = min(best, time.perf_counter() - t0)
    return best * 1000.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "bench.db")
        print(f"{'functions':>10} {'wall s (best)':>14} {'peak RSS MB':>12}")
        for size in (50, 1000, 10_000):
            results = [run_status(size, db) for _ in range(args.runs)]
            wall = min(r[0] for r in results)
            # ru_maxrss of children is the max over all children so far: run sizes ascending.
            rss = max(r[1] for r in results)
            print(f"{size:>10} {wall:>14.3f} {rss:>12.1f}")
    print(
        f"core per-refresh work (classify+burn+diagnose+snapshot), 10,000 functions: "
        f"{core_cost(10_000):.1f} ms (best of 5)"
    )


if __name__ == "__main__":
    main()
