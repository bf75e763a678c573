"""Backend health as the console shows it, read in one place.

The app reads it from the engine's backends once per shown refresh (and on a skipped tick
while the first load waits) into one :class:`Health`; the header, the failing-backend
banner, the fleet's info line and ``b`` all show that one value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from console.core.model import BackendStatus
from console.core.redact import redact
from console.core.snapshot import FleetSnapshot
from console.engine.fleet.backend import Backend

__all__ = ["Failing", "Health", "failing_backends", "read_health", "turned_failing", "unanswered"]


@dataclass(frozen=True)
class Failing:
    """One failing backend as the banner and ``b`` show it."""

    name: str
    url: str | None
    #: The first error of this run of failures (redacted).
    first_error: str
    #: Seconds since that first error (None: not known).
    age_s: float | None
    #: Whether the fleet gets its function list from this backend.
    inventory: bool
    #: "open" / "half-open" while a capability's circuit is not closed, else None.
    circuit: str | None = None


def failing_backends(backends: Iterable[Backend], now: float | None) -> list[Failing]:
    """The failing ones among the engine's backends, ages relative to ``now``."""
    from console.plugin_api import Inventory

    out = []
    for b in backends:
        state = b.failing()
        if state is None:
            continue
        error, since = state
        circuits = [br.state for br in b.breakers.values()]
        circuit = "open" if "open" in circuits else "half-open" if "half-open" in circuits else None
        out.append(
            Failing(
                name=b.name,
                url=redact(b.url) if b.url else None,
                first_error=redact(error),
                age_s=None if since is None or now is None else max(0.0, now - since),
                inventory=b.has(Inventory),
                circuit=circuit,
            )
        )
    return out


@dataclass(frozen=True)
class Health:
    """The backends' state: failing ones (the banner's lines), and, during the first load,
    the ones with neither an answer nor an error yet."""

    failing: tuple[Failing, ...] = ()
    waiting: tuple[str, ...] = ()


def unanswered(backends: Iterable[Backend]) -> tuple[str, ...]:
    """Backends with neither an answer nor an error yet (what the first load waits on)."""
    return tuple(b.name for b in backends if b.latency_ms is None and b.last_error is None)


def read_health(backends: Iterable[Backend], snapshot: FleetSnapshot) -> Health:
    """The health shown with ``snapshot`` (ages relative to when it was taken)."""
    backends = list(backends)
    return Health(
        failing=tuple(failing_backends(backends, snapshot.taken_at)),
        waiting=unanswered(backends),
    )


def turned_failing(before: FleetSnapshot | None, after: FleetSnapshot) -> list[BackendStatus]:
    """The backends failing in ``after`` that were not failing in ``before`` (or not in it),
    with an error to say: each is notified once, when it turns."""
    was = {b.name: b.ok for b in before.backends} if before is not None else {}
    return [
        b
        for b in after.backends
        if not b.ok and was.get(b.name) is not False and b.error is not None
    ]
