"""Backend calls under failure: a hanging backend costs a refresh one timeout, no more;
fast retryable failures are retried within that budget."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest

from console.core.model import BackendStatus, Function, Signals
from console.engine.fleet import resilience
from console.engine.fleet.refresh import Backend, Fleet
from console.errors import BackendUnavailable

TIMEOUT = 0.2


class Hanging:
    """Inventory + Metrics whose every call waits on an event that is never set."""

    name = "hung"

    def __init__(self) -> None:
        self.never = asyncio.Event()
        self.calls = 0

    async def check(self) -> BackendStatus:
        return BackendStatus(name=self.name, plugin="fake", ok=True)

    async def aclose(self) -> None:
        pass

    async def functions(self) -> list[Function]:
        self.calls += 1
        await self.never.wait()
        return []

    async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
        self.calls += 1
        await self.never.wait()
        return {}

    async def series(self, *a: Any) -> list[tuple[float, float]]:
        return []


async def test_a_hanging_backend_delays_a_refresh_by_one_timeout_not_attempts_times_it() -> None:
    plugin = Hanging()
    backend = Backend(name="hung", plugin_name="fake", plugin=plugin, timeout=TIMEOUT)
    fleet = Fleet([backend], attempts=3)
    started = time.perf_counter()
    snap = await asyncio.wait_for(fleet.refresh(), 10)
    took = time.perf_counter() - started
    assert took < 3 * TIMEOUT, f"first paint waited {took:.2f}s for a {TIMEOUT}s timeout"
    (status,) = snap.backends
    assert not status.ok and status.error == f"timed out after {TIMEOUT:g}s"
    assert plugin.calls == 1  # not retried, and its other calls are not made this refresh
    # the next refresh is the retry
    await asyncio.wait_for(fleet.refresh(), 10)
    assert plugin.calls == 2


class Flaky:
    """Fails fast with a retryable error ``failures`` times, then answers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise BackendUnavailable("connection refused")
        return "ok"


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


async def test_a_fast_retryable_failure_is_retried_and_the_answer_returned() -> None:
    fn, clock = Flaky(failures=1), FakeTime()
    result = await resilience.call(
        fn, timeout=5.0, attempts=3, sleep=clock.sleep, clock=clock, rng=random.Random(1)
    )
    assert result == "ok" and fn.calls == 2
    assert len(clock.slept) == 1


async def test_no_retry_whose_backoff_would_overrun_the_budget() -> None:
    fn, clock = Flaky(failures=5), FakeTime()
    # backoff base 10s, budget 1s: the first backoff cannot fit, so one try only
    with pytest.raises(BackendUnavailable, match="connection refused"):
        await resilience.call(
            fn,
            timeout=1.0,
            attempts=3,
            base=10.0,
            cap=10.0,
            sleep=clock.sleep,
            clock=clock,
            rng=FixedRng(0.5),
        )
    assert fn.calls == 1 and clock.slept == []


async def test_retries_stop_at_the_attempt_limit_and_the_breaker_counts_one_failure() -> None:
    fn, clock = Flaky(failures=5), FakeTime()
    breaker = resilience.CircuitBreaker(threshold=2, clock=clock)
    with pytest.raises(BackendUnavailable):
        await resilience.call(
            fn, timeout=60.0, attempts=3, breaker=breaker, sleep=clock.sleep, clock=clock
        )
    assert fn.calls == 3 and len(clock.slept) == 2
    assert breaker.failures == 1 and breaker.state == "closed"


class FixedRng(random.Random):
    """Always draws the given fraction of the range."""

    def __init__(self, fraction: float) -> None:
        super().__init__(0)
        self.fraction = fraction

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.fraction
