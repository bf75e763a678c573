"""Time the demo plugin: functions() + signals() on a fresh instance, at 50, 1,000 and 10,000.

Run: ``.venv/bin/python bench/bench_demo.py`` (target: 10,000 functions in < 300 ms).
A fresh instance pays for generating the fleet; the refresh column is a later signals()
call on the same instance (what every TUI refresh costs).
"""

from __future__ import annotations

import asyncio
import statistics
import time

from callboard_demo import DemoPlugin

from console.plugin_api import MemoryState, PluginContext

SIZES = (50, 1_000, 10_000)
RUNS = 5
NOW = 1_800_000_000.0


async def one(size: int) -> tuple[float, float]:
    ctx = PluginContext(http=None, secret=lambda n: "", clock=lambda: NOW, state=MemoryState())
    plugin = DemoPlugin("demo", {"size": size}, ctx)
    started = time.perf_counter()
    functions = await plugin.functions()
    signals = await plugin.signals(functions, "5m")
    cold = time.perf_counter() - started
    assert len(signals) == size
    started = time.perf_counter()
    await plugin.signals(functions, "5m")
    return cold, time.perf_counter() - started


def main() -> None:
    print(
        f"{'functions':>10}  {'functions()+signals() ms':>24}  {'refresh ms':>10}  (median of {RUNS})"
    )
    for size in SIZES:
        runs = [asyncio.run(one(size)) for _ in range(RUNS)]
        cold = statistics.median(r[0] for r in runs) * 1000
        warm = statistics.median(r[1] for r in runs) * 1000
        print(f"{size:>10,}  {cold:>24.1f}  {warm:>10.1f}")


if __name__ == "__main__":
    main()
