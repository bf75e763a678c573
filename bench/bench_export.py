"""Measure postmortem export and ``audit verify`` on big event logs.

    .venv/bin/python bench/bench_export.py [EVENTS] [VERIFY_EVENTS]

Writes an incident with EVENTS events (default 100,000: signal samples, findings, notes,
runbook runs with step intents and results, actions — one action every 500 events and a
crashed one) through ``EventLog.bulk_append`` (which computes the chain, no per-event
transaction), exports it in each format end to end as ``callboard export`` does (best of 3), then builds a log of VERIFY_EVENTS
events (default 1,000,000) and times ``EventLog.verify`` over it. Targets: md and json under
2 s for 100,000 events. Temporary files are removed afterwards.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.engine.incidents.export import (
    FORMATS,
    RENDERERS,
    export_incident,
    gc_paused,
    postmortem,
)
from console.engine.incidents.lifecycle import open_incident, resolve
from console.engine.store.events import EventLog, NewEvent
from console.engine.store.sqlite import Store

FNS = ("checkout:POST /pay", "payments:rpc Authorize")
T0 = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)


def _at(i: int) -> str:
    return (T0 + timedelta(milliseconds=250 * i)).isoformat(timespec="milliseconds")[:-6] + "Z"


def synthetic(n: int, incident_id: str) -> Iterator[NewEvent]:
    """``n`` events shaped like the recorder's and the executor's."""
    for i in range(n):
        at = _at(i)
        err = 0.002 + 0.08 * (1 + (i % 977) / 977) * (1 if i < n * 0.7 else 0.05)
        sig = {f: {"success_rate": 1 - err, "error_rate": err, "p99_ms": 800.0 + i % 300,
                   "rate_rps": 40.0, "timeout_rate": err * 0.9, "budget_remaining": 0.9 - i / n / 2,
                   "objective": 0.999, "slo_window": "30d"} for f in FNS}  # fmt: skip
        run, step = f"run{i // 500}", f"s{i % 500 // 2}"
        kind = i % 10
        if i % 500 == 0:
            yield NewEvent("step.intent", {"step": "rollback", "kind": "action", "target": FNS[0],
                           "what": "demo: roll back"}, incident_id, run, FNS[0], at)  # fmt: skip
        elif i % 500 == 1:
            yield NewEvent("step.result", {"step": "rollback", "kind": "action", "status": "done",
                           "output": "rolled back"}, incident_id, run, FNS[0], at)  # fmt: skip
        elif kind < 6:
            yield NewEvent("signals.sampled", {"signals": sig}, incident_id, None, None, at)
        elif kind == 6:
            yield NewEvent("note", {"text": f"observation {i}", "signals": sig}, incident_id, at=at)
        elif kind == 7:
            yield NewEvent("finding.appeared", {"mode": "F1", "name": "Timeout", "severity": "page",
                           "evidence": "p99 high", "signals": sig, "trace_id": f"{i:032x}"},
                           incident_id, None, FNS[0], at)  # fmt: skip
        else:
            yield NewEvent("step.intent" if kind == 8 else "step.result",
                           {"step": step, "kind": "check", "status": "done"}, incident_id, run,
                           FNS[0], at)  # fmt: skip
    yield NewEvent("action.intent", {"action": "circuit_open", "params": {"dependency": "psp"}},
                   incident_id, "crashed", FNS[1], _at(n))  # fmt: skip


def best_of(k: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(k):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(n: int = 100_000, n_verify: int = 1_000_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "export.db")
        inc = open_incident(store, "Bench", list(FNS), at=_at(0))
        t = time.perf_counter()
        EventLog(store).bulk_append(synthetic(n, inc.id))
        print(f"wrote {n:,} incident events in {time.perf_counter() - t:.2f}s")
        resolve(store, inc.id, at=_at(n + 1))
        t = time.perf_counter()
        pm = postmortem(store, inc.id)
        build = time.perf_counter() - t
        print(f"read + build postmortem: {build:.2f}s ({len(pm.timeline):,} rows, "
              f"{len(pm.actions)} actions)")  # fmt: skip
        for fmt in FORMATS:
            # end to end: what `callboard export` does (read, build, render, redact), best of 3
            total = best_of(3, lambda f=fmt: export_incident(store, inc.id, f))  # type: ignore[misc]
            with gc_paused():
                render = best_of(3, lambda f=fmt: RENDERERS[f](pm))  # type: ignore[misc]
            size = len(RENDERERS[fmt](pm).encode())
            print(f"export {fmt:<4}: {total:.2f}s end to end (render {render:.2f}s), "
                  f"{size / 1e6:.1f} MB")  # fmt: skip
        store.close()

        store = Store(Path(tmp) / "verify.db")
        t = time.perf_counter()
        EventLog(store).bulk_append(synthetic(n_verify, "INC-0001"), batch=100_000)
        print(f"wrote {n_verify:,} chained events in {time.perf_counter() - t:.2f}s (bulk)")
        t = time.perf_counter()
        result = EventLog(store).verify()
        took = time.perf_counter() - t
        print(f"audit verify: {result.checked:,} events in {took:.2f}s "
              f"({took / max(result.checked, 1) * 1e6:.2f} µs/event), ok={result.ok}")  # fmt: skip
        store.close()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
