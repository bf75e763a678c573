"""Timeouts, retries with full-jitter backoff, and a circuit breaker for backend calls.

A call's timeout is its whole budget: a hanging backend costs a refresh one timeout, never
attempts × timeout plus backoff.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

from console.errors import BackendError, BackendUnavailable

T = TypeVar("T")


class CircuitOpen(BackendUnavailable):
    """The breaker is open: the backend failed repeatedly and is left alone for a while."""


class CallTimeout(BackendUnavailable):
    """The call took its whole budget: the backend hangs (not retried within a refresh)."""


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; lets one trial call through after
    ``cooldown`` seconds (half-open); closes again on success.

    It keeps the first error of the current run of failures and when it happened, so a
    message while open still says what went wrong in the first place ("connection
    refused"), not only "circuit open".
    """

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
        #: The first error of the current run of failures, and its time (None: no failure).
        self.first_error: str | None = None
        self.failing_since: float | None = None
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
        self.first_error = self.failing_since = None

    def failure(self, error: str | None = None) -> None:
        if self.failures == 0:
            self.failing_since = self._clock()
        if self.first_error is None:
            self.first_error = error
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = self._clock()


def backoff_delay(
    attempt: int, base: float, cap: float, draw: Callable[[], float] = random.random
) -> float:
    """Full jitter: ``draw() × min(cap, base × 2^attempt)``, ``draw`` uniform in [0, 1).

    The one backoff of the project: backend calls (:func:`call`) and a runbook step's
    retries (:mod:`console.engine.runbooks.steprunner`) both wait this long.
    """
    return draw() * min(cap, base * (2**attempt))


async def call(
    fn: Callable[[], Awaitable[T]],
    *,
    timeout: float,
    attempts: int = 3,
    base: float = 0.2,
    cap: float = 2.0,
    breaker: CircuitBreaker | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> T:
    """Call ``fn`` within ``timeout`` seconds in all, retrying fast retryable failures.

    ``timeout`` is the budget of the whole call, retries and backoff included: a refresh
    waits at most that long for one backend. A timeout is not retried (the backend is
    hanging; the next refresh is the retry). A retryable BackendError (connection refused,
    a 503) is retried up to ``attempts`` times in all, only while the backoff and a further
    try still fit in the budget. Non-retryable errors (bad response, auth) are raised at once.
    The breaker, when given, short-circuits calls while open and records each outcome.

    Raises:
        CircuitOpen: the breaker is open.
        CallTimeout: the call took the whole budget.
        BackendUnavailable: every try failed retryably.
        BackendError: a non-retryable failure.
    """
    if breaker is not None and not breaker.allow():
        first = f"; first error: {breaker.first_error}" if breaker.first_error else ""
        raise CircuitOpen(f"circuit open after {breaker.failures} failures, retrying later{first}")
    draw = random.random if rng is None else partial(rng.uniform, 0.0, 1.0)
    deadline = clock() + timeout
    last: BackendError | None = None
    for attempt in range(max(1, attempts)):
        try:
            result = await asyncio.wait_for(fn(), max(0.0, deadline - clock()))
        except TimeoutError:
            last = CallTimeout(f"timed out after {timeout:g}s")
            break
        except BackendError as exc:
            if not exc.retryable:
                if breaker is not None:
                    breaker.failure(str(exc) or type(exc).__name__)
                raise
            last = exc
        else:
            if breaker is not None:
                breaker.success()
            return result
        if attempt >= attempts - 1:
            break
        delay = backoff_delay(attempt, base, cap, draw)
        if clock() + delay >= deadline:
            break  # no room left for another try within the budget
        await sleep(delay)
    assert last is not None
    if breaker is not None:
        breaker.failure(str(last) or type(last).__name__)
    raise last
