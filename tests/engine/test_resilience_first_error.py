"""The breaker keeps the first error of a run of failures: "circuit open" alone says
nothing about what broke."""

from __future__ import annotations

import pytest

from console.engine.fleet import resilience
from console.errors import BackendUnavailable


async def test_circuit_open_names_the_first_error_until_a_success() -> None:
    t = [100.0]
    breaker = resilience.CircuitBreaker(threshold=2, cooldown=30, clock=lambda: t[0])

    async def refused() -> None:
        raise BackendUnavailable("cannot connect to http://prom:9090: connection refused")

    for _ in range(2):
        with pytest.raises(BackendUnavailable):
            await resilience.call(refused, timeout=1, attempts=1, breaker=breaker)
        t[0] += 5
    with pytest.raises(resilience.CircuitOpen) as opened:
        await resilience.call(refused, timeout=1, attempts=1, breaker=breaker)
    assert "circuit open after 2 failures" in str(opened.value)
    assert "first error: cannot connect to http://prom:9090: connection refused" in str(
        opened.value
    )
    assert breaker.failing_since == 100.0

    async def ok() -> int:
        return 1

    t[0] += 60
    assert await resilience.call(ok, timeout=1, attempts=1, breaker=breaker) == 1
    assert breaker.first_error is None and breaker.failing_since is None
