"""Leaving a runbook run in progress: ``q``, ``ctrl+q`` and palette navigation ask first.

A mixin for :class:`~console.tui.app.CallboardApp`. While a runner on the screen stack has a
run in progress, quitting or switching screens pushes :class:`LeaveRunScreen` (focus on
Stay); if the operator confirms, the run is cancelled cleanly (recorded cancelled, never
left running) and only then does the app quit or switch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import work
from textual.app import App

from console.tui.run_driver import RunDriverScreen
from console.tui.screens.leave import LeaveRunScreen

__all__ = ["LEAVE_WAIT_S", "LeaveGuardMixin"]

#: How long a cancelled run may take to finish its current step before it is abandoned.
LEAVE_WAIT_S = 5.0


class LeaveGuardMixin(App[None]):
    """Adds the "a run is in progress" question to quitting and switching screens."""

    #: Seconds to wait for a cancelled run (tests set 0: abandon a blocked step at once).
    leave_wait_s: float = LEAVE_WAIT_S

    def running_runner(self) -> RunDriverScreen | None:
        """The runner on the stack with a run in progress, if any."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, RunDriverScreen) and screen.running:
                return screen
        return None

    def leave_runs(self, then: Callable[[], Any], what: str) -> None:
        """Do ``then`` now, or, while a run is in progress, after asking and cancelling it.

        ``what`` says what leaving does ("quit", "open cart:GET /cart").
        """
        if isinstance(self.screen, LeaveRunScreen):
            return  # already asking
        runner = self.running_runner()
        if runner is None:
            then()
            return

        def answered(go: bool | None) -> None:
            if go:
                self._cancel_then(runner, then)

        self.push_screen(LeaveRunScreen(runner.function_id, what), answered)

    @work(group="leave-run", exclusive=True, exit_on_error=False)
    async def _cancel_then(self, runner: RunDriverScreen, then: Callable[[], Any]) -> None:
        self.notify(f"Cancelling the run on {runner.function_id}…", timeout=3)
        await runner.stop_run(self.leave_wait_s)
        then()

    async def action_quit(self) -> None:
        """``q`` / ``ctrl+q``: quit, asking first while a run is in progress."""
        self.leave_runs(self.exit, "quit")
