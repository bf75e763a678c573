"""One line of a postmortem's timeline: its own module, so the postmortem and the actions
read from its rows (:mod:`console.core.postmortem_actions`) both import it, not each other."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from console.core.timeline import EventLike

__all__ = ["Row"]


@dataclass(frozen=True, slots=True)
class Row:
    """One timeline line. ``outcome`` is set on intents and results (else None)."""

    t: float | None
    event: EventLike
    data: Mapping[str, Any]
    summary: str
    outcome: str | None
    signals: str
