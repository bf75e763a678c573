"""Measure diagnose() (and slo.evaluate) over a synthetic fleet: the core's per-refresh work.

    .venv/bin/python bench/bench_diagnose.py [N]

Builds N functions (default 10,000; seeded, so every run measures the same fleet) with every
signal filled in and about 10% unhealthy (one or two failure modes each), then times one pass
of ``diagnose`` over the fleet, best of 5. Target: < 2.5 µs per healthy function, 10,000
functions < 25 ms.
"""

from __future__ import annotations

import dataclasses
import random
import sys
import time
from collections.abc import Callable
from typing import Any

from console.core.diagnose import DEFAULT_THRESHOLDS, diagnose
from console.core.model import SLO, Function, Signals
from console.core.slo import evaluate

# One signal change per failure mode, enough to make its rule fire.
FAULTS: list[dict[str, Any]] = [
    {"timeout_rate": 0.06, "p99_ms": 2400.0},
    {"throttle_rate": 0.03},
    {"retry_rate": 0.35},
    {"cold_start_rate": 0.2, "p99_ms": 900.0},
    {"failing_instances": 0.25, "error_5xx_rate": 0.04},
    {"auth_error_rate": 0.12},
    {"memory": 0.98},
    {"serialization_error_rate": 0.05},
    {"dependency_errors": {"dep-0": 0.6}},
    {"cost_per_1k": 5.0},
]


def build_fleet(n: int, seed: int = 7) -> list[tuple[Function, Signals, Signals]]:
    """``n`` (function, signals, baseline) triples, ~10% of them unhealthy."""
    rng = random.Random(seed)
    fleet = []
    for i in range(n):
        rps = rng.uniform(0.5, 500.0)
        p99 = rng.uniform(50.0, 800.0)
        fn = Function(id=f"svc-{i % 97}:op-{i}", service=f"svc-{i % 97}", slo=SLO())
        deps = {f"dep-{d}": rng.uniform(0.0, 0.01) for d in range(rng.randint(0, 3))}
        err = rng.uniform(0.0, 0.002)
        signals = Signals(
            rate_rps=rps,
            p50_ms=p99 / 5,
            p95_ms=p99 / 2,
            p99_ms=p99 * rng.uniform(0.9, 1.2),
            error_5xx_rate=err,
            timeout_rate=rng.uniform(0.0, 0.005),
            throttle_rate=rng.uniform(0.0, 0.005),
            auth_error_rate=rng.uniform(0.0, 0.005),
            serialization_error_rate=rng.uniform(0.0, 0.005),
            retry_rate=rng.uniform(0.0, 0.05),
            cold_start_rate=rng.uniform(0.0, 0.02),
            cpu=rng.uniform(0.1, 0.7),
            memory=rng.uniform(0.2, 0.8),
            queue_length=rng.uniform(0.0, 20.0),
            cost_per_1k=rng.uniform(0.01, 1.0),
            failing_instances=0.0,
            dependency_errors=deps,
            error_ratio={w: err for w in ("5m", "30m", "1h", "6h", "3d", "30d")},
            requests={"1h": rps * 3600, "6h": rps * 21600, "3d": rps * 259200},
        )
        baseline = Signals(
            rate_rps=rps, p99_ms=p99, queue_length=10.0, cost_per_1k=signals.cost_per_1k
        )
        if rng.random() < 0.10:
            for fault in rng.sample(FAULTS, rng.randint(1, 2)):
                signals = dataclasses.replace(signals, **fault)
        fleet.append((fn, signals, baseline))
    return fleet


def best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of ``runs`` timings of ``work()``, in seconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Build the fleet, time it, print the figures."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    fleet = build_fleet(n)
    t = DEFAULT_THRESHOLDS
    healthy = [x for x in fleet if not diagnose(x[0], x[1], x[2], t)]

    def diagnose_all(items: list[tuple[Function, Signals, Signals]] = fleet) -> int:
        return sum(len(diagnose(fn, s, b, t)) for fn, s, b in items)

    findings = diagnose_all()
    whole = best_of(5, diagnose_all)
    calm = best_of(5, lambda: diagnose_all(healthy))
    slo = best_of(5, lambda: [evaluate(s, fn.slo) for fn, s, _ in fleet])
    sick = n - len(healthy)
    print(f"fleet: {n:,} functions, {sick:,} unhealthy ({sick / n:.1%}), {findings:,} findings")
    print(f"diagnose: {whole * 1e3:.1f} ms for {n:,} functions ({whole / n * 1e6:.2f} µs each)")
    print(f"diagnose, healthy only: {calm / len(healthy) * 1e6:.2f} µs per function")
    print(f"slo.evaluate: {slo * 1e3:.1f} ms for {n:,} functions ({slo / n * 1e6:.2f} µs each)")


if __name__ == "__main__":
    main()
