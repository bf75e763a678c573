"""Waterfall benchmarks: first paint of a 10,000-span trace (target < 300 ms), one scroll page.

    .venv/bin/python bench/bench_waterfall.py            # headless, 140×45

The trace is synthetic and deterministic (seeded): a request tree about 10 levels deep with
fan-out (breadth-first, 1–4 children each), children inside their parent's time, 1% error spans, then
``finalize``d as every trace source does. Figures:

- model: ``Waterfall(trace)`` alone — the iterative flatten, subtree ends, parents.
- first paint: ``push_screen(WaterfallScreen(trace))`` until the screen is idle, i.e.
  compose + layout + the title/detail panes + every visible waterfall line painted.
- one page: ``pagedown`` through Pilot until idle (the cursor moves a page, the view
  scrolls, repaint), and the widget's own share: the key's handler plus building every
  line of the new page with ``render_line``.

The 10-span run is the floor of the harness: Textual 8 waits 50 ms when switching screens,
and each Pilot key press waits for the app to go idle twice.
- collapse: toggling the root's subtree (rebuilds the visible list).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import deque

from textual.app import App

from console.core import traces as core_traces
from console.core.model import Span, Trace
from console.tui.screens.waterfall import WaterfallScreen
from console.tui.widgets.waterfall import Waterfall

SIZE = (140, 45)
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SERVICES = ("gateway", "checkout", "payments", "cart", "inventory", "postgres", "redis", "search")


def synthetic_trace(n: int = 10_000, seed: int = 7) -> Trace:
    """A deterministic ``n``-span trace with errors, finalized like a parsed one."""
    rng = random.Random(seed)
    ms = 1_000_000
    t0 = 1_795_726_800 * 10**9
    spans = [
        Span(TRACE_ID, f"{1:016x}", None, "gateway", "GET /checkout", t0, 4_000 * ms, "server")
    ]
    # Breadth-first with 1–4 children each: about 10 levels deep at 10,000 spans.
    frontier = deque([(spans[0], rng.randint(1, 4))])
    for i in range(2, n + 1):
        parent, quota = frontier[0]
        if quota <= 1:
            frontier.popleft()
        else:
            frontier[0] = (parent, quota - 1)
        room = max(parent.duration_ns // 3, 1)
        start = parent.start_ns + rng.randrange(max(parent.duration_ns - room, 1))
        duration = max(1_000, int(room * rng.random()))
        failed = rng.random() < 0.01
        span = Span(
            TRACE_ID,
            f"{i:016x}",
            parent.span_id,
            rng.choice(SERVICES),
            f"op-{i % 97} {rng.choice(('SELECT', 'GET', 'rpc', 'publish'))}",
            start,
            duration,
            "client" if i % 2 else "server",
            "error" if failed else "ok",
            "deadline exceeded" if failed else "",
            {"attempt": i % 3, "db.statement": "SELECT * FROM orders WHERE id = $1"},
        )
        spans.append(span)
        frontier.append((span, rng.randint(1, 4)))
    return core_traces.finalize(Trace(TRACE_ID, tuple(spans), source="bench"))


class Bench(App[None]):
    """An empty app: the waterfall screen is pushed onto it."""


def model_ms(trace: Trace, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        Waterfall(trace)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def paint(trace: Trace, runs: int = 5) -> dict[str, float]:
    """Median first paint, one page down, one page of render_line, and a collapse (ms)."""
    app = Bench()
    first, page, lines, fold = [], [], [], []
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(runs):
            started = time.perf_counter()
            app.push_screen(WaterfallScreen(trace.trace_id, trace))
            await pilot.pause()
            first.append(time.perf_counter() - started)
            wf = app.screen.query_one(Waterfall)
            assert wf.render_line(1).text.strip(), "nothing painted"
            for _ in range(10):
                started = time.perf_counter()
                await pilot.press("pagedown")
                page.append(time.perf_counter() - started)
            height = wf.scrollable_content_region.height
            started = time.perf_counter()
            wf.action_page(1)  # the key's handler, then every line of the new page
            for y in range(height):
                wf.render_line(y)
            lines.append(time.perf_counter() - started)
            await pilot.pause()
            await pilot.press("home")
            started = time.perf_counter()
            await pilot.press("enter")
            fold.append(time.perf_counter() - started)
            app.pop_screen()
            await pilot.pause()
    return {
        "first paint": statistics.median(first) * 1000,
        "page down (key to idle)": statistics.median(page) * 1000,
        "page down (handler+lines)": statistics.median(lines) * 1000,
        "collapse the root": statistics.median(fold) * 1000,
    }


def main() -> None:
    for n in (10, 10_000):
        trace = synthetic_trace(n)
        errors = sum(1 for s in trace.spans if s.status == "error")
        print(f"\n{n:,} spans ({errors} errors), {SIZE[0]}×{SIZE[1]} headless")
        print(f"  {'model (flatten + index)':<26}{model_ms(trace):8.1f} ms")
        for name, value in asyncio.run(paint(trace)).items():
            target = "   (target < 300 ms)" if name == "first paint" and n > 10 else ""
            print(f"  {name:<26}{value:8.1f} ms{target}")


if __name__ == "__main__":
    main()
