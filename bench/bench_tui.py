"""TUI benchmarks: first paint at 1,000 and 10,000 functions, and one live refresh.

    .venv/bin/python bench/bench_tui.py            # demo fleet (seeded), 140×45, headless

First paint is measured from process start (the parent's spawn time) to the moment the
fleet table holds its rows and the screen has painted, in a fresh interpreter that starts
the app the way ``callboard --demo --demo-size N`` does (headless instead of a terminal).

The refresh figure is the UI-thread time to apply one new snapshot to the table: building
the rows, diffing cells, and the repaint that follows — with the default 1,000-row window
and with the whole 10,000-row fleet in the table.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time

CHILD = r"""
import sys, time
size, window = int(sys.argv[1]), sys.argv[2]
from console.context import AppContext
ctx = AppContext(demo=True, demo_size=size)
fleet = ctx.fleet()
from console.tui.app import CallboardApp
app = CallboardApp(fleet, refresh_interval=3600, window=None if window == "all" else int(window),
                   owns_fleet=True, tune_gc=True)

async def pilot(p):
    while app.snapshot is None:
        await p.pause(0.01)
    await p.pause()
    rows = app.screen_stack[0].table.row_count
    print(time.time(), rows, flush=True)
    app.exit()

app.run(headless=True, size=(140, 45), auto_pilot=pilot)
"""


def first_paint(size: int, window: str = "1000", runs: int = 3) -> tuple[float, int]:
    """Median seconds from spawning the process to the painted fleet."""
    times, rows = [], 0
    for _ in range(runs):
        t0 = time.time()
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(size), window],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        times.append(float(out[0]) - t0)
        rows = int(out[1])
    return statistics.median(times), rows


async def refresh_cost(size: int, window: int | None, rounds: int = 5) -> dict[str, float]:
    """UI-thread ms to apply one refresh (rows + diff) and to repaint afterwards."""
    from console.config import Config
    from console.engine.fleet.build import build_fleet
    from console.tui.app import CallboardApp

    now = [time.time()]
    # The demo moves with its clock: step it 5 s per refresh, like the live loop does.
    fleet = build_fleet(Config(), demo=True, demo_size=size, clock=lambda: now[0])
    app = CallboardApp(fleet, refresh_interval=3600, window=window, owns_fleet=True, tune_gc=True)
    apply_ms, paint_ms, updates = [], [], []
    async with app.run_test(size=(140, 45)) as pilot:
        assert app._refresh is not None
        await app._refresh.wait()
        await pilot.pause()
        screen = app.screen_stack[0]
        for _ in range(rounds):
            now[0] += 5.0
            t0 = time.perf_counter()
            snap = await fleet.refresh()  # engine time: not UI work
            refresh_ms = (time.perf_counter() - t0) * 1000
            t1 = time.perf_counter()
            screen.show_snapshot(snap)  # type: ignore[attr-defined]
            t2 = time.perf_counter()
            await pilot.pause()  # idle: the repaint of the visible rows
            t3 = time.perf_counter()
            apply_ms.append((t2 - t1) * 1000)
            paint_ms.append((t3 - t2) * 1000)
            updates.append(screen.table.last_updates)  # type: ignore[attr-defined]
        rows = screen.table.row_count  # type: ignore[attr-defined]
    return {
        "rows_in_table": rows,
        "engine_refresh_ms": round(refresh_ms, 1),
        "apply_ms": round(statistics.median(apply_ms), 1),
        "repaint_ms": round(statistics.median(paint_ms), 1),
        "cells_updated": statistics.median(updates),
    }


def main() -> None:
    results: dict[str, object] = {}
    for size in (1000, 10_000):
        secs, rows = first_paint(size)
        results[f"first_paint_{size}"] = {"seconds": round(secs, 3), "rows_in_table": rows}
        print(f"first paint, {size:>6,} functions (window 1,000): {secs:.3f} s ({rows} rows)")
    secs, rows = first_paint(10_000, "all", runs=1)
    results["first_paint_10000_unwindowed"] = {"seconds": round(secs, 3), "rows_in_table": rows}
    print(f"first paint, 10,000 functions, whole table:   {secs:.3f} s ({rows} rows)")
    for window in (1000, None):
        r = asyncio.run(refresh_cost(10_000, window))
        label = "window 1,000" if window else "whole table"
        results[f"refresh_10000_{'window' if window else 'all'}"] = r
        print(
            f"one refresh, 10,000 functions, {label}: apply {r['apply_ms']} ms + repaint "
            f"{r['repaint_ms']} ms UI thread ({r['cells_updated']:.0f} cells changed, "
            f"{r['rows_in_table']} rows; engine refresh {r['engine_refresh_ms']} ms)"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
