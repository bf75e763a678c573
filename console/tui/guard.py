"""Leaving a runbook run in progress: ``q``, ``ctrl+q`` and palette navigation ask first.

The app owns one :class:`LeaveGuard`. While a runner on the screen stack has a run in
progress, quitting or switching screens pushes :class:`LeaveRunScreen` (focus on Stay); if
the operator confirms, the run is cancelled cleanly (recorded cancelled, never left
running) and only then does the app quit or switch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.app import App

from console.tui.dialogs.leave import LeaveRunScreen

if TYPE_CHECKING:
    from console.tui.run_driver import RunDriverScreen

__all__ = ["LEAVE_WAIT_S", "LeaveGuard"]

#: How long a cancelled run may take to finish its current step before it is abandoned.
LEAVE_WAIT_S = 5.0


class LeaveGuard:
    """The "a run is in progress" question before quitting and switching screens."""

    def __init__(self, app: App[Any]) -> None:
        self._app = app

    def running_runner(self) -> RunDriverScreen | None:
        """The runner on the stack with a run in progress, if any."""
        # Imported here: the runner's modules (~10 ms) are not needed before the first
        # paint, and the app is built before it.
        from console.tui.run_driver import RunDriverScreen

        for screen in reversed(self._app.screen_stack):
            if isinstance(screen, RunDriverScreen) and screen.running:
                return screen
        return None

    def leave_runs(self, then: Callable[[], Any], what: str, wait_s: float) -> None:
        """Do ``then`` now, or, while a run is in progress, after asking and cancelling it
        (waiting at most ``wait_s`` for it to stop).

        ``what`` says what leaving does ("quit", "open cart:GET /cart").
        """
        app = self._app
        if isinstance(app.screen, LeaveRunScreen):
            return  # already asking
        runner = self.running_runner()
        if runner is None:
            then()
            return

        def answered(go: bool | None) -> None:
            if go:
                app.run_worker(
                    self._cancel_then(runner, then, wait_s),
                    group="leave-run",
                    exclusive=True,
                    exit_on_error=False,
                )

        app.push_screen(LeaveRunScreen(runner.function_id, what), answered)

    async def _cancel_then(
        self, runner: RunDriverScreen, then: Callable[[], Any], wait_s: float
    ) -> None:
        self._app.notify(f"Cancelling the run on {runner.function_id}…", timeout=3)
        await runner.stop_run(wait_s)
        then()
