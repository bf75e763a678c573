"""Small fake backends and fleets for the TUI tests (no monkeypatching: they are injected)."""

from __future__ import annotations

import asyncio
import random

from console.core.model import (
    SLO,
    BackendStatus,
    Deploy,
    Function,
    Kind,
    Signals,
)
from console.engine.fleet.refresh import Backend, Fleet
from console.errors import BackendUnavailable

#: 2026-11-26T21:00:00Z — every test fleet runs on this fixed clock.
T0 = 1795726800.0


def fixed_clock() -> float:
    return T0


class FakeFleetPlugin:
    """Inventory + Metrics + Changes over ``size`` deterministic functions.

    Function 0 is ``checkout:POST /pay`` (failing: timeouts and a burning SLO); every
    seventh function throttles; one id contains ``[`` to prove cells are not markup.
    """

    def __init__(self, size: int = 40, seed: int = 7) -> None:
        self.size = size
        self.rng = random.Random(seed)
        self.calls = 0
        owners = ["payments", "search", "identity", "platform", "growth"]
        self.fns = [
            Function(
                id=Function.make_id(svc, op),
                service=svc,
                operation=op,
                kind=Kind.HTTP,
                owner=owners[i % len(owners)],
                oncall=f"@{owners[i % len(owners)]}-oncall",
                tier=1 + i % 3,
                slo=SLO(objective=0.999),
                runbooks=("timeouts",) if i == 0 else (),
                dependencies=("postgres", "redis") if i == 0 else (),
            )
            for i, (svc, op) in enumerate(self._names(size))
        ]

    @staticmethod
    def _names(size: int) -> list[tuple[str, str]]:
        names = [("checkout", "POST /pay"), ("search", "GET /q[prod]")]
        names += [(f"svc{i // 4:04d}", f"GET /op{i % 4}") for i in range(2, size)]
        return names[:size]

    async def check(self) -> BackendStatus:
        return BackendStatus(name="fake", plugin="fake", ok=True)

    async def aclose(self) -> None:
        return None

    async def functions(self) -> list[Function]:
        return list(self.fns)

    async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
        self.calls += 1
        out: dict[str, Signals] = {}
        for i, fn in enumerate(functions):
            noise = self.rng.random() * 0.0004
            rate = 50.0 + (i * 37) % 400
            if i == 0:
                out[fn.id] = Signals(
                    rate_rps=120.0,
                    success_rate=0.9731 - noise,
                    p50_ms=41.0,
                    p95_ms=880.0,
                    p99_ms=2950.0,
                    timeout_rate=0.061,
                    error_5xx_rate=0.004,
                    error_ratio={"5m": 0.027, "30m": 0.025, "1h": 0.027, "6h": 0.012, "3d": 0.002},
                    requests={
                        "5m": 36000.0,
                        "30m": 216000.0,
                        "1h": 432000.0,
                        "6h": 2.6e6,
                        "3d": 3e7,
                    },
                    dependency_errors={"postgres": 0.21},
                )
            elif i % 7 == 3:
                out[fn.id] = Signals(
                    rate_rps=rate, success_rate=0.985 - noise, p99_ms=180.0, throttle_rate=0.03
                )
            elif i % 11 == 5:
                continue  # no data at all: shown as "—"
            else:
                out[fn.id] = Signals(
                    rate_rps=rate, success_rate=0.9995 - noise, p99_ms=95.0 + i % 50
                )
        return out

    async def series(
        self, function: Function, signal: str, start: float, end: float, step: float
    ) -> list[tuple[float, float]]:
        if signal not in ("success_rate", "p99_ms", "rate_rps"):
            return []
        n = int((end - start) // step)
        return [(start + k * step, 0.97 + 0.0005 * (k % 7)) for k in range(n)]

    async def deploys(self, function: Function | None, since: float) -> list[Deploy]:
        return [
            Deploy(
                "checkout:POST /pay",
                "v2.14.1",
                "2026-11-26T20:41:00Z",
                "alice",
                "bump pg driver",
                previous_version="v2.14.0",
            )
        ]


class HangingPlugin:
    """Metrics whose ``signals`` waits on an Event (set it to let the refresh finish)."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
        self.started.set()
        await self.release.wait()
        return {}

    async def series(self, *a: object) -> list[tuple[float, float]]:
        return []

    async def aclose(self) -> None:
        return None


class FailingPlugin:
    """Metrics that always fail like an unreachable server."""

    async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
        raise BackendUnavailable("connection refused (prom.internal:9090)")

    async def series(self, *a: object) -> list[tuple[float, float]]:
        raise BackendUnavailable("connection refused")

    async def aclose(self) -> None:
        return None


def fake_fleet(size: int = 40, *extra: Backend, timeout: float = 5.0, **kwargs: object) -> Fleet:
    """A Fleet over FakeFleetPlugin (plus ``extra`` backends) on the fixed clock."""
    backends = [Backend(name="fake", plugin_name="fake", plugin=FakeFleetPlugin(size)), *extra]
    return Fleet(backends, clock=fixed_clock, timeout=timeout, attempts=1, **kwargs)  # type: ignore[arg-type]


def demo_fleet(size: int | None = None, clock: object = fixed_clock) -> Fleet:
    """The seeded demo fleet on the fixed clock (what snapshots and screenshots show)."""
    from console.config import Config
    from console.engine.fleet.build import build_fleet

    return build_fleet(Config(), demo=True, demo_size=size, clock=clock)  # type: ignore[arg-type]
