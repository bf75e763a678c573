"""A recorded incident as a drill's target: ``callboard drill --replay INC-0042``.

The replay backend (``console.engine.replay``, #16's other half) turns the incident's
recorded signals into a fleet config; this module says what the drill asks of it — which
function showed each failure mode (the incident's ``finding.appeared`` events, first
seen first) — and builds the drill's config from it. The failures are there from the
start of the replay: the drill measures from its first moment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from console.config import Config
from console.core.events import EventKind
from console.engine.store.base import StoreLike
from console.engine.store.events import EventLog
from console.errors import UserError

__all__ = ["replay_drill"]


def replay_targets(store: StoreLike, incident_id: str) -> dict[str, str]:
    """Mode → the function it first appeared on, from the incident's events."""
    found: dict[str, str] = {}
    for e in EventLog(store).iter(incident_id=incident_id.strip().upper()):
        mode = e.data.get("mode")
        if e.kind == EventKind.FINDING_APPEARED and isinstance(mode, str) and e.function_id:
            found.setdefault(mode, e.function_id)
    return found


def replay_drill(
    store: StoreLike, incident_id: str
) -> tuple[dict[str, str], Callable[[Config, tuple[str, ...], float], Config]]:
    """(targets, config builder) of a drill on the replay of ``incident_id``.

    Raises:
        UserError: replay is not available (exit 2), or the incident recorded no finding.
    """
    from console.engine.replay import replay_config

    raw: Mapping[str, Any] = replay_config(store, incident_id)
    targets = replay_targets(store, incident_id)
    if not targets:
        raise UserError(f"{incident_id}: no finding was recorded on it, nothing to drill on")

    def config(base: Config, modes: tuple[str, ...], inject_at: float) -> Config:
        from console.config import parse_config
        from console.config_model import OtlpConfig

        replayed = parse_config(dict(raw), source=f"replay of {incident_id}")
        return replace(replayed, runbooks=base.runbooks, otlp=OtlpConfig(enabled=False))

    return targets, config
