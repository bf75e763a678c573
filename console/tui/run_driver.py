"""Driving the engine's ``Executor`` from a screen: one worker per run, messages back.

The executor asks its questions (confirm a step, settle an unknown outcome) through modal
screens awaited inside the worker; each recorded change comes back as a ``RunUpdated``
message and the end as ``RunEnded``. A failure becomes one ``WorkFailed`` notification and
never leaves a run marked running.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from textual import work
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from console.context import AppContext
from console.core.runbook import Runbook, Step
from console.engine.runbooks.executor import Executor
from console.engine.runbooks.runs import UNDO_OFFSET, RunRecord, StepRecord
from console.engine.runbooks.steprunner import ConfirmRequest
from console.tui.dialogs.confirm import ConfirmScreen, DecideScreen
from console.tui.messages import WorkFailed
from console.tui.screens.base import CallboardScreen
from console.tui.state import ConsoleApp

__all__ = [
    "LeaseRefused",
    "RunDriverScreen",
    "RunEnded",
    "RunUpdated",
    "Sleep",
    "runner_context",
]

Sleep = Callable[[float], Awaitable[None]]


def runner_context(app: ConsoleApp) -> AppContext:
    """The app's context; without one, an in-memory store (tests, screenshots)."""
    ctx = app.context
    if ctx is None:
        from console.config import Config

        ctx = app.context = AppContext(db_path=":memory:", _config=Config())
    return ctx


@dataclass
class RunUpdated(Message):
    """The executor recorded a change (a copy of the run at that moment)."""

    record: RunRecord


@dataclass
class LeaseRefused(Message):
    """Another run holds the function's lease: the run did not start (nothing recorded)."""

    mode: str
    refusal: str
    stale: bool
    values: dict[str, Any]
    run_id: str


@dataclass
class RunEnded(Message):
    """A dry run, run, resume or undo finished (record None: it failed to start)."""

    mode: str
    record: RunRecord | None


class RunDriverScreen(CallboardScreen):
    """A screen that runs one runbook on one function through an ``Executor``."""

    def __init__(
        self,
        runbook: Runbook,
        function_id: str,
        environment: tuple[str, bool, bool],
        *,
        poll_every: float | None = None,
        sleep: Sleep = asyncio.sleep,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.runbook = runbook
        self.function_id = function_id
        self._env = environment
        #: Verify polling interval override (tests pass 0) and the sleep it uses.
        self.poll_every = poll_every
        self.sleep = sleep
        self._executor: Executor | None = None
        #: The last worker's mode: dry, run, resume or undo.
        self.mode = ""
        #: What is happening now (None: idle), shown on the summary line.
        self.activity: str | None = None
        #: Polls made so far by the verify step running now (step id → count).
        self._polls: dict[str, int] = {}
        self._live_step: str | None = None
        self._worker: Worker[None] | None = None

    @property
    def running(self) -> bool:
        """Whether a run (or dry run, undo, resume) is in progress on this screen."""
        return self.activity is not None

    async def stop_run(self, wait_s: float) -> None:
        """Cancel the run in progress and wait for it to stop, at most ``wait_s`` seconds.

        The executor stops at once (a plugin action in progress finishes first; the run is
        recorded cancelled); a question it is waiting on gets its safe answer. A step still going after ``wait_s`` is
        abandoned: the run is recorded cancelled with that step's outcome unknown.
        """
        if self._executor is not None:
            self._executor.cancel()
        self.activity = "Cancelling: the run stops now (an action in progress finishes first)"
        for _ in range(len(self.app.screen_stack)):  # the questions asked over this screen
            top = self.app.screen
            if not isinstance(top, ConfirmScreen | DecideScreen):
                break
            top.dismiss(None if isinstance(top, DecideScreen) else False)
        worker = self._worker
        if worker is None or worker.is_finished:
            return
        try:
            await asyncio.wait_for(asyncio.shield(worker.wait()), wait_s)
            return
        except TimeoutError:
            worker.cancel()
        except (WorkerCancelled, WorkerFailed):
            return
        with contextlib.suppress(WorkerCancelled, WorkerFailed):
            await worker.wait()

    def _make_executor(self) -> Executor:
        ctx = runner_context(self.app)
        return Executor(
            self.app.fleet,
            ctx.store,
            secret=ctx.secrets.get,
            confirm=self._confirm,
            decide=self._decide,
            poll_every=self.poll_every,
            sleep=self._sleep,
            on_update=self._updated,
        )

    def _updated(self, record: RunRecord) -> None:
        # Called in order from the worker: the activity line is set here, not from the
        # (later) message, so a question asked meanwhile is not overwritten by a stale step.
        running = [s for s in record.steps if s.status == "running"]
        self._live_step = running[0].id if running else None
        if running and self.activity and not self.activity.startswith("Cancelling"):
            step = running[0]
            what = "Undoing" if step.idx >= UNDO_OFFSET else "Running"
            total = len(self.runbook.steps)
            base = step.idx % UNDO_OFFSET
            title = self.runbook.steps[base].label if base < total else step.id
            self.activity = f"{what} step {base + 1}/{total}: {title}"
        self.post_message(RunUpdated(copy.deepcopy(record)))

    @work(group="runbook-run", exit_on_error=False)
    async def run_runbook(
        self, mode: str, values: dict[str, Any], run_id: str = "", take_over: bool = False
    ) -> None:
        """Drive the executor; updates and the end come back as messages. ``take_over``:
        take a stale lease (the operator said so)."""
        from console.engine.runbooks.leases import LeaseHeld

        self.mode = mode
        executor = self._executor = self._make_executor()
        record: RunRecord | None = None
        try:
            if mode == "resume":
                record = await executor.resume(self.runbook, run_id, values, take_over=take_over)
            elif mode == "undo":
                record = await executor.undo(self.runbook, run_id, values, take_over=take_over)
            else:
                record = await executor.start(
                    self.runbook,
                    self.function_id,
                    values,
                    dry_run=mode == "dry",
                    take_over=take_over,
                )
        except LeaseHeld as exc:  # another responder's run: shown, nothing was started
            self.post_message(LeaseRefused(mode, str(exc), exc.stale, values, run_id))
            record = None
        except Exception as exc:  # the executor left the run interrupted, never running
            self.post_message(WorkFailed(f"Runbook {self.runbook.id}", exc))
            record = executor.current
        finally:
            await executor.aclose()
        self.post_message(RunEnded(mode, copy.deepcopy(record)))

    async def _confirm(self, request: ConfirmRequest) -> bool:
        self._asking(f"Waiting for your confirmation: {request.step}")
        screen = cast("Screen[object]", ConfirmScreen(request))
        return bool(await self.app.push_screen_wait(screen))

    def _asking(self, what: str) -> None:
        if self.activity is not None and not self.activity.startswith("Cancelling"):
            self.activity = what
            self.redraw()

    async def _decide(self, step: Step, rec: StepRecord) -> bool | None:
        env, prod, _ = self._env
        where = f"PRODUCTION {env}" if prod else env
        self._asking(f"Waiting for your answer: did {step.label} take effect?")
        screen = cast("Screen[object]", DecideScreen(step, rec, self.function_id, where))
        result = await self.app.push_screen_wait(screen)
        return None if result is None else bool(result)

    async def _sleep(self, seconds: float) -> None:
        if self._live_step is not None:  # a verify poll (or a retry's backoff) of this step
            self._polls[self._live_step] = self._polls.get(self._live_step, 1) + 1
            self.call_later(self.redraw)
        await self.sleep(seconds)

    def redraw(self) -> None:
        """Show the current state (screens override this)."""
