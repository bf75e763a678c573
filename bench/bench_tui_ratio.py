"""The console's cost as ratios against a bare Textual DataTable, measured side by side.

    .venv/bin/python bench/bench_tui_ratio.py            # 5 pairs for first paint, 3 for the rest
    .venv/bin/python bench/bench_tui_ratio.py --runs 3   # fewer pairs

Every measure runs Callboard (A) and a floor (B) in turn — A B, B A, A B, … — each in a fresh
interpreter, and takes the ratio pair by pair, so a machine that slows down during the run
(other work on its 2 cores) moves both sides of a pair alike. Quote the median ratio.

- **first paint**: whole process, spawn to exit; each child exits right after its first
  paint. A starts the app as ``callboard --demo --demo-size N`` does (headless, 140×45); B is a
  bare ``App`` with one ``DataTable`` holding the same 1,000 rows and columns as the fleet's
  first 1,000 (the cells are made beforehand and unpickled, so B pays for no model).
  Wall seconds and CPU seconds (user + system of the child) are both reported.
  Both sides run from compiled bytecode, as an installed app does: the children cache it in
  a temporary ``PYTHONPYCACHEPREFIX`` that the warm-up pair fills (``PYTHONDONTWRITEBYTECODE``
  is dropped for them). Without it, a shell that sets ``PYTHONDONTWRITEBYTECODE`` had
  Callboard's ~100 modules of an editable install compiled from source in every child
  (~140 ms), while the floor read Textual's bytecode from site-packages.
  ``--no-bytecode-cache`` measures the children with the environment as it is.
- **live refresh, 10,000 functions**: UI-thread CPU time (``time.thread_time()`` of the event
  loop's thread) from the snapshot message to the repainted screen: apply + repaint. Idle
  waits cost nothing here, and work in worker threads (the demo's simulation, the snapshot
  build) is not counted; the engine refresh's own share of the UI thread is printed apart.
  B applies the same cell changes to a bare 1,000-row DataTable (``update_cell``) and repaints.
- **first filter keystroke, 10,000 functions**: UI-thread CPU from the key press to the
  repainted table. B filters the same 10,000 rows by substring and reloads its table.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SIZE = (140, 45)
FILTER_KEY = "c"  # the first key of "checkout": matches about half of the demo fleet

# -- first paint: the two children ------------------------------------------------------

CALLBOARD_PAINT = r"""
import sys
size = int(sys.argv[1])
from console.context import AppContext
ctx = AppContext(demo=True, demo_size=size)
fleet = ctx.fleet()
from console.tui.app import CallboardApp
app = CallboardApp(fleet, refresh_interval=3600, owns_fleet=True, tune_gc=True)

async def pilot(p):
    while app.snapshot is None:
        await p.pause(0.01)
    await p.pause()
    assert app.screen_stack[0].table.row_count == min(size, 1000)
    app.exit()

app.run(headless=True, size=(140, 45), auto_pilot=pilot)
"""

FLOOR_PAINT = r"""
import pickle, sys
from textual.app import App
from textual.widgets import DataTable
with open(sys.argv[1], "rb") as f:
    columns, rows = pickle.load(f)

class Floor(App):
    def compose(self):
        yield DataTable(cursor_type="row")

    def on_mount(self):
        table = self.query_one(DataTable)
        for key, label, width in columns:
            table.add_column(label, width=width, key=key)
        for key, cells in rows:
            table.add_row(*cells, key=key)
        table.focus()

async def pilot(p):
    await p.pause()
    assert p.app.query_one(DataTable).row_count == len(rows)
    p.app.exit()

Floor().run(headless=True, size=(140, 45), auto_pilot=pilot)
"""


async def fleet_rows(size: int, rounds: int = 1) -> tuple[list[tuple[str, str, int]], list[Any]]:
    """The fleet table's columns and its first 1,000 rows, for ``rounds`` refreshes 5 s apart."""
    from console.config import Config
    from console.engine.fleet.build import build_fleet
    from console.tui.fleetview import COLUMNS, ViewOptions, build_rows

    now = [1_800_000_000.0]
    fleet = build_fleet(Config(), demo=True, demo_size=size, clock=lambda: now[0])

    out = []
    for _ in range(rounds):
        snap = await fleet.refresh()
        out.append(build_rows(snap, ViewOptions()).rows)
        now[0] += 5.0
    await fleet.aclose()
    return [(c.key, c.label, c.width) for c in COLUMNS], out


def _bytecode_env(cache: Path | None) -> dict[str, str] | None:
    """The children's environment: bytecode cached under ``cache`` (None: as it is)."""
    if cache is None:
        return None
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def _spawn(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall and CPU seconds of one child, start to exit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"child failed ({done.returncode}):\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def paired(a: Callable[[], dict[str, float]], b: Callable[[], dict[str, float]], runs: int):
    """Run ``a`` and ``b`` in turn (ABBA order), one warm-up pair first; per-pair results."""
    a()
    b()
    pairs = []
    for i in range(runs):
        if i % 2:
            rb, ra = b(), a()
        else:
            ra, rb = a(), b()
        pairs.append((ra, rb))
    return pairs


def first_paint(size: int, runs: int, bytecode_cache: bool = True) -> dict[str, Any]:
    columns, (rows,) = asyncio.run(fleet_rows(size))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.pickle"
        path.write_bytes(pickle.dumps((columns, rows)))
        env = _bytecode_env(Path(tmp) / "pycache" if bytecode_cache else None)

        def a() -> dict[str, float]:
            wall, cpu = _spawn([sys.executable, "-c", CALLBOARD_PAINT, str(size)], env)
            return {"wall": wall * 1000, "cpu": cpu * 1000}

        def b() -> dict[str, float]:
            wall, cpu = _spawn([sys.executable, "-c", FLOOR_PAINT, str(path)], env)
            return {"wall": wall * 1000, "cpu": cpu * 1000}

        return summarise(paired(a, b, runs))


# -- in-process measures: one child per side, JSON on stdout ----------------------------


def _ui_time() -> tuple[float, float]:
    return time.thread_time(), time.perf_counter()


def _since(t: tuple[float, float]) -> dict[str, float]:
    c, w = _ui_time()
    return {"cpu": (c - t[0]) * 1000, "wall": (w - t[1]) * 1000}


async def callboard_refresh(size: int, rounds: int) -> dict[str, float]:
    """UI-thread ms from SnapshotReady to the repainted fleet (median of ``rounds``)."""
    from console.config import Config
    from console.engine.fleet.build import build_fleet
    from console.tui.app import CallboardApp
    from console.tui.messages import SnapshotReady

    now = [1_800_000_000.0]
    fleet = build_fleet(Config(), demo=True, demo_size=size, clock=lambda: now[0])
    app = CallboardApp(fleet, refresh_interval=3600, owns_fleet=True, tune_gc=True)
    ui, engine, cells = [], [], []
    async with app.run_test(size=SIZE) as pilot:
        assert app._refresh is not None
        await app._refresh.wait()
        await pilot.pause()
        table = app.screen_stack[0].table  # type: ignore[attr-defined]
        for _ in range(rounds):
            now[0] += 5.0
            t = _ui_time()
            snap = await fleet.refresh()  # its share of the UI thread, the rest is in threads
            engine.append(_since(t)["cpu"])
            t = _ui_time()
            app.post_message(SnapshotReady(snap))  # the path the live loop takes
            await pilot.pause()
            ui.append(_since(t)["cpu"])
            assert app.snapshot is snap
            cells.append(table.last_updates)
    return {"ui": min(ui), "ui_median": statistics.median(ui), "engine_ui": min(engine),
            "cells": statistics.median(cells)}  # fmt: skip


async def floor_refresh(size: int, rounds: int) -> dict[str, float]:
    """The same cell changes applied to a bare DataTable with ``update_cell`` + repaint."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    columns, snaps = await fleet_rows(size, rounds + 1)

    class Floor(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(cursor_type="row")

    app = Floor()
    ui = []
    async with app.run_test(size=SIZE) as pilot:
        table: DataTable[Any] = app.query_one(DataTable)
        for key, label, width in columns:
            table.add_column(label, width=width, key=key)
        for key, row in snaps[0]:
            table.add_row(*row, key=key)
        await pilot.pause()
        for prev, new in itertools.pairwise(snaps):
            old = dict(prev)
            changes = [
                (k, columns[i][0], n)
                for k, row in new
                if k in old
                for i, (o, n) in enumerate(zip(old[k], row, strict=True))
                if o.plain != n.plain or o.style != n.style or o.spans != n.spans
            ]
            t = _ui_time()
            with app.batch_update():
                for k, c, v in changes:
                    table.update_cell(k, c, v)
            await pilot.pause()
            ui.append(_since(t)["cpu"])
    return {"ui": min(ui), "ui_median": statistics.median(ui)}


async def callboard_filter(size: int) -> dict[str, float]:
    """UI-thread ms from the first filter key to the repainted table."""
    from console.config import Config
    from console.engine.fleet.build import build_fleet
    from console.tui.app import CallboardApp

    fleet = build_fleet(Config(), demo=True, demo_size=size, clock=lambda: 1_800_000_000.0)
    app = CallboardApp(fleet, refresh_interval=3600, owns_fleet=True, tune_gc=True)
    async with app.run_test(size=SIZE) as pilot:
        assert app._refresh is not None
        await app._refresh.wait()
        await pilot.pause()
        await pilot.press("slash")
        await pilot.pause()
        screen = app.screen_stack[0]
        before = screen.table.row_count  # type: ignore[attr-defined]
        t = _ui_time()
        await pilot.press(FILTER_KEY)
        await pilot.pause()
        r = _since(t)
        assert screen.options.filter == FILTER_KEY, screen.options  # type: ignore[attr-defined]
        rows = screen.table.row_count  # type: ignore[attr-defined]
    return {"ui": r["cpu"], "wall": r["wall"], "rows_before": before, "rows": rows}


async def floor_filter(size: int) -> dict[str, float]:
    """A bare DataTable + Input: the key filters 10,000 rows by substring, reloads the table."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable, Input

    from console.config import Config
    from console.engine.fleet.build import build_fleet
    from console.tui.fleetview import COLUMNS, ViewOptions, build_rows

    fleet = build_fleet(Config(), demo=True, demo_size=size, clock=lambda: 1_800_000_000.0)
    snap = await fleet.refresh()
    await fleet.aclose()
    everything = build_rows(snap, ViewOptions(window=None)).rows
    columns = [(c.key, c.label, c.width) for c in COLUMNS]

    class Floor(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(cursor_type="row")
            yield Input()

        def on_mount(self) -> None:
            self.load("")

        def load(self, text: str) -> None:
            table = self.query_one(DataTable)
            table.clear(columns=not table.columns)
            if not table.columns:
                for key, label, width in columns:
                    table.add_column(label, width=width, key=key)
            low = text.lower()
            picked = [(k, r) for k, r in everything if low in k.lower()][:1000]
            for key, row in picked:
                table.add_row(*row, key=key)

        def on_input_changed(self, event: Input.Changed) -> None:
            self.load(event.value)

    app = Floor()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.query_one(Input).focus()
        await pilot.pause()
        t = _ui_time()
        await pilot.press(FILTER_KEY)
        await pilot.pause()
        r = _since(t)
        rows = app.query_one(DataTable).row_count
    return {"ui": r["cpu"], "wall": r["wall"], "rows": rows}


CHILDREN: dict[str, Callable[[int, int], Any]] = {
    "callboard-refresh": callboard_refresh,
    "floor-refresh": floor_refresh,
    "callboard-filter": lambda size, _r: callboard_filter(size),
    "floor-filter": lambda size, _r: floor_filter(size),
}


def in_process(name: str, size: int, rounds: int) -> dict[str, float]:
    argv = [sys.executable, __file__, "--child", name, str(size), str(rounds)]
    out = subprocess.run(argv, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{name} failed:\n{out.stderr[-3000:]}")
    result: dict[str, float] = json.loads(out.stdout.splitlines()[-1])
    return result


def summarise(pairs: list[tuple[dict[str, float], dict[str, float]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in pairs[0][0]:
        if k not in pairs[0][1]:
            out[f"a_{k}"] = statistics.median(a[k] for a, _ in pairs)
            continue
        av, bv = [a[k] for a, _ in pairs], [b[k] for _, b in pairs]
        out[k] = {
            "a_min": min(av), "a_median": statistics.median(av),
            "b_min": min(bv), "b_median": statistics.median(bv),
            "ratio_median": statistics.median(a[k] / b[k] for a, b in pairs),
            "ratio_min": min(a[k] / b[k] for a, b in pairs),
            "ratio_max": max(a[k] / b[k] for a, b in pairs),
        }  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="pairs for first paint")
    parser.add_argument(
        "--child", nargs=3, metavar=("NAME", "SIZE", "ROUNDS"), help=argparse.SUPPRESS
    )
    parser.add_argument("--only", choices=("paint", "refresh", "filter"), action="append")
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="first paint: run the children with the environment as it is (see the module text)",
    )
    args = parser.parse_args()
    if args.child:
        name, size, rounds = args.child
        print(json.dumps(asyncio.run(CHILDREN[name](int(size), int(rounds)))))
        return
    only = set(args.only or ("paint", "refresh", "filter"))
    load = os.getloadavg()
    results: dict[str, Any] = {"loadavg_start": load, "bytecode_cache": not args.no_bytecode_cache}
    table: list[tuple[str, dict[str, Any], str]] = []
    inner = max(3, args.runs - 2)
    if "paint" in only:
        for size, limit in ((1000, 1.3), (10_000, 1.6)):
            r = first_paint(size, args.runs, bytecode_cache=not args.no_bytecode_cache)
            results[f"first_paint_{size}"] = r
            table.append((f"first paint, {size:,} fn, wall", r["wall"], f"≤ {limit}×"))
            table.append((f"first paint, {size:,} fn, cpu", r["cpu"], f"≤ {limit}×"))
    labels = {"refresh": "live refresh", "filter": f"first filter key {FILTER_KEY!r}"}
    for what, rounds in (("refresh", 5), ("filter", 1)):
        if what not in only:
            continue
        a = functools.partial(in_process, f"callboard-{what}", 10_000, rounds)
        r = summarise(
            paired(a, functools.partial(in_process, f"floor-{what}", 10_000, rounds), inner)
        )
        results[f"{what}_10000"] = r
        table.append((f"{labels[what]}, 10,000 fn, UI cpu", r["ui"], "≤ 100 ms"))
        if "wall" in r:
            table.append((f"{labels[what]}, 10,000 fn, wall", r["wall"], ""))
    results["loadavg_end"] = os.getloadavg()
    print(f"{'measure':<42} {'Callboard ms':>16} {'floor ms':>16} {'ratio':>17} {'target':>9}")
    print(f"{'':<42} {'min / median':>16} {'min / median':>16} {'median (range)':>17}")
    for label, m, target in table:
        cb = f"{m['a_min']:.0f} / {m['a_median']:.0f}"
        fl = f"{m['b_min']:.0f} / {m['b_median']:.0f}"
        ratio = f"{m['ratio_median']:.2f} ({m['ratio_min']:.2f}–{m['ratio_max']:.2f})"
        print(f"{label:<42} {cb:>16} {fl:>16} {ratio:>17} {target:>9}")
    extra = {k: v for k, v in results.get("refresh_10000", {}).items() if k.startswith("a_")}
    if extra:
        print(f"refresh extras (Callboard, median): {json.dumps(extra)}")
    if "paint" in only:
        how = (
            "cached in a temporary prefix"
            if results["bytecode_cache"]
            else "as the environment has it"
        )
        print(f"first paint children: bytecode {how}")
    print("load average at start {:.1f} {:.1f} {:.1f}, at end {:.1f} {:.1f} {:.1f}".format(
        *results["loadavg_start"], *results["loadavg_end"]))  # fmt: skip
    print(json.dumps(results))


if __name__ == "__main__":
    main()
