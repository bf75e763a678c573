"""Timeouts, retries with full-jitter backoff, and a circuit breaker for backend calls."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from console.errors import BackendError, BackendUnavailable

T = TypeVar("T")


class CircuitOpen(BackendUnavailable):
    """The breaker is open: the backend failed repeatedly and is left alone for a while."""


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; lets one trial call through after
    ``cooldown`` seconds (half-open); closes again on success."""

    def __init__(
        self,
        threshold: int = 3,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.failures = 0
        self.opened_at: float | None = None
        self._clock = clock

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self._clock() - self.opened_at >= self.cooldown:
            return "half-open"
        return "open"

    def allow(self) -> bool:
        return self.state != "open"

    def success(self) -> None:
        self.failures = 0
        self.opened_at = None

    def failure(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = self._clock()


def backoff_delay(
    attempt: int, base: float = 0.2, cap: float = 5.0, rng: random.Random | None = None
) -> float:
    """Full jitter: uniform(0, min(cap, base × 2^attempt))."""
    r = rng or random
    return r.uniform(0.0, min(cap, base * (2**attempt)))


async def call(
    fn: Callable[[], Awaitable[T]],
    *,
    timeout: float,
    attempts: int = 3,
    base: float = 0.2,
    cap: float = 2.0,
    breaker: CircuitBreaker | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Call ``fn`` with a per-attempt timeout, retrying retryable BackendErrors.

    Non-retryable errors (bad response, auth) are raised at once. The breaker, when given,
    short-circuits calls while open and records each outcome.
    """
    if breaker is not None and not breaker.allow():
        raise CircuitOpen("circuit open after repeated failures; retrying later")
    last: BackendError | None = None
    for attempt in range(max(1, attempts)):
        try:
            result = await asyncio.wait_for(fn(), timeout)
        except TimeoutError:
            last = BackendUnavailable(f"timed out after {timeout:g}s")
        except BackendError as exc:
            if not exc.retryable:
                if breaker is not None:
                    breaker.failure()
                raise
            last = exc
        else:
            if breaker is not None:
                breaker.success()
            return result
        if attempt < attempts - 1:
            await sleep(backoff_delay(attempt, base, cap))
    if breaker is not None:
        breaker.failure()
    assert last is not None
    raise last
