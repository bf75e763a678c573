"""What the executor asks an operator: a confirmation naming the exact change, and (on
resume) whether a step a crash left unknown took effect. No Textual: the CLI answers on the
terminal or from ``--yes``/``--accept-plan``, the TUI with a modal screen."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from console.core.runbook import Step
from console.engine.runbooks.runs import StepRecord

__all__ = ["Confirm", "ConfirmRequest", "Decide"]


@dataclass(frozen=True)
class ConfirmRequest:
    """What an operator is asked to approve: the step, its target and the environment."""

    run_id: str
    step_id: str
    step: str
    kind: str
    target: str
    environment: str
    production: bool
    reason: str
    detail: str
    #: On resume, the plan first shown (or last confirmed) when it differs from ``detail``:
    #: the operator must confirm the new plan, not the one they saw before.
    previous: str = ""

    @property
    def changed(self) -> bool:
        """Whether the plan differs from the one the operator saw before (resume)."""
        return bool(self.previous) and self.previous != self.detail

    @property
    def fingerprint(self) -> str:
        """A short digest of the plan: ``--accept-plan`` names the exact plan it confirms."""
        return hashlib.sha256(self.detail.encode()).hexdigest()[:10]

    def prompt(self) -> str:
        env = f"PRODUCTION {self.environment}" if self.production else self.environment
        head = f"{self.step} — {self.detail}"
        if self.changed:
            head = f"{self.step} — THE PLAN CHANGED\nwas:\n{self.previous}\nnow:\n{self.detail}"
        return f"{head}\non {self.target} in {env} ({self.reason}). Proceed?"


Confirm = Callable[[ConfirmRequest], Awaitable[bool]]
Decide = Callable[[Step, StepRecord], Awaitable[bool | None]]
