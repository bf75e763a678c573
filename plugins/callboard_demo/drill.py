"""A drill's scenario: only some failures, beginning at a chosen moment (``callboard drill``).

The default scenario has all ten failures active since before the console started. A drill
keeps only the failures of the modes it names (``failures: "F3,F9"``) and starts them at
``inject_at`` (Unix seconds): before then the fleet is healthy. The change that caused a
kept failure (its service's change as old as the failure) is moved to just before it, so a
deploy still explains the failure it caused; a change not yet made is not reported.
"""

from __future__ import annotations

from dataclasses import dataclass

from callboard_demo.scenario import FAILURES, Change, Failure
from console.plugin_api import FailureMode

#: A kept failure's cause is deployed this many seconds before the failure shows.
CAUSE_LEAD_S = 40.0


def parse_modes(text: str) -> frozenset[FailureMode]:
    """``"F3,F9"`` → those modes. Raises ValueError naming what is not a mode."""
    out = set()
    for word in (w.strip().upper() for w in text.split(",")):
        if not word:
            continue
        try:
            out.add(FailureMode(word))
        except ValueError:
            known = ", ".join(m.value for m in FailureMode)
            raise ValueError(f"demo: unknown failure mode {word!r} (use {known})") from None
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class DrillScenario:
    """The failures a drill keeps and when they begin (None: the scenario's own ages)."""

    modes: frozenset[FailureMode]
    inject_at: float | None

    def failures(self) -> tuple[Failure, ...]:
        return tuple(f for f in FAILURES if f.mode in self.modes)

    def start(self, f: Failure, epoch: float) -> float:
        """When ``f`` begins."""
        return epoch - f.age_s if self.inject_at is None else self.inject_at

    def change_at(self, c: Change, epoch: float) -> float:
        """When change ``c`` is made (a kept failure's cause: just before the failure)."""
        at = epoch - c.age_s
        if self.inject_at is None:
            return at
        for f in self.failures():
            if f.function_id.partition(":")[0] == c.service and f.age_s == c.age_s:
                at = self.inject_at - CAUSE_LEAD_S
        return at
