"""The runbook runner: params, a dry run first, then the real run with live steps.

Enter dry-runs (nothing changes); after a clean dry run with the same params, Enter runs for
real. Steps that need it ask through a modal naming the target and the environment (Enter
confirms outside production; in production the focus starts on Cancel); with no incident
open, the first real run offers one — in production before it runs, elsewhere as the
confirmation's default button. ``c``
cancels at once (inside a verify's wait too), ``u`` undoes the done steps of a finished or
stopped run (each undo planned and confirmed), ``R`` resumes
the newest stopped run of this runbook on this function. A run another responder's run
holds the function against (its lease) is refused on screen, naming who and since when; a
stale one may be taken over after a confirmation. The engine's ``Executor`` does
the work in one worker; its updates come back as messages, its failure as one notification.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Input, Static

from console.core.model import Finding
from console.core.runbook import Runbook
from console.core.runbook_params import FUNCTION_FIELDS, from_evidence
from console.core.snapshot import FleetSnapshot
from console.engine.runbooks.executor import RESUMABLE
from console.engine.runbooks.runs import RunRecord, RunStore
from console.tui.messages import WorkFailed
from console.tui.run_driver import LeaseRefused, RunEnded, RunUpdated, Sleep, runner_context
from console.tui.screens.runner_offer import IncidentOfferDriver
from console.tui.screens.runner_view import (
    reflow,
    resumable_text,
    steps_view,
    stopped_runs,
    summary_line,
    title_text,
    undoable,
)
from console.tui.widgets.params_form import ParamsForm
from console.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from textual import getters

    from console.tui.state import ConsoleApp

__all__ = ["ResumableLoaded", "RunnerScreen"]


class RunnerScreen(IncidentOfferDriver):
    """One runbook on one function."""

    if TYPE_CHECKING:
        app = getters.app(ConsoleApp)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "dry_run", "Dry run"),
        Binding("enter", "run", "Run for real"),
        Binding("c", "cancel_run", "Cancel"),
        Binding("u", "undo", "Undo done steps"),
        Binding("R", "resume", "Resume"),
        Binding("i", "incident", "Incident"),
        Binding("r", "runbook", "Runbooks", show=False),
        Binding("escape", "back", "Back"),
        Binding("p", "app.toggle_pause", "Pause", show=False),
    ]
    #: on_mount puts the focus on the first missing param (or the body) at once; the
    #: default auto-focus would put it on the body first.
    AUTO_FOCUS = ""
    DEFAULT_CSS = """
    #runner-body { padding: 0 2; }
    #rb-title, #rb-desc, #rb-summary, #rb-steps, #rb-resume { margin-top: 1; }
    """

    def __init__(
        self,
        runbook: Runbook,
        function_id: str,
        environment: tuple[str, bool, bool],
        finding: Finding | None = None,
        *,
        poll_every: float | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(
            runbook,
            function_id,
            environment,
            poll_every=poll_every,
            sleep=sleep,
            id="runner-screen",
        )
        self.finding = finding
        self.record: RunRecord | None = None
        self.resumable: list[RunRecord] = []
        self._dry_values: dict[str, Any] | None = None
        self._values: dict[str, Any] = {}
        #: Whether opening an incident was offered already (only before the first real run).
        self._offered = False
        #: Why the last run was refused: another responder's run holds the function's lease.
        self.lease_note: str | None = None

    # -- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        env, prod, ro = self._env
        yield StatusBar(env, production=prod, read_only=ro)
        # The plan first (what Enter does, then the steps): at 80×24 it is what fits; the
        # params follow, the runbook's prose last.
        with VerticalScroll(id="runner-body"):
            yield Static(id="rb-title")
            yield Static(id="rb-summary")
            yield Static(id="rb-steps")
            facts = self.finding.facts if self.finding is not None else {}
            yield ParamsForm(
                self.runbook.params,
                prefill=from_evidence(self.runbook.params, facts),
                id="rb-params",
            )
            yield Static(id="rb-resume")
            if self.runbook.description:
                yield Static(Text(reflow(self.runbook.description), style="dim"), id="rb-desc")
        yield Footer()

    def on_mount(self) -> None:
        snap = self.app.snapshot
        if snap is not None:
            self.show_snapshot(snap)
        else:
            self._title(None)
        self.watch(self.app, "shown", self.show_snapshot, init=False)
        # an incident opened (here, from the confirmation, or anywhere) changes the hint
        self.watch(self.app, "incidents", lambda _: self.redraw(), init=False)
        self.redraw()
        self.load_resumable()
        self.form.display = bool(self.runbook.params)
        missing = self.form.first_missing()
        self.set_focus(missing or self.query_one("#runner-body"))

    def show_snapshot(self, snapshot: FleetSnapshot) -> None:
        """A refresh: the header, and whether the finding is still diagnosed."""
        if not self.query("#rb-title"):
            return  # a refresh that lands before the screen is composed: on_mount shows it
        self._title(snapshot)

    def _title(self, snapshot: FleetSnapshot | None) -> None:
        h = snapshot.by_id().get(self.function_id) if snapshot is not None else None
        self.query_one("#rb-title", Static).update(
            title_text(self.runbook, self.function_id, self._env, self.finding, h)
        )

    def redraw(self) -> None:
        """Summary, steps and stopped runs from the current state; footer keys follow."""
        self.query_one("#rb-summary", Static).update(
            summary_line(
                self.record,
                busy=self.activity,
                dry_ok=self._dry_ok(),
                problems=len(self.form.errors),
                no_incident=self._no_incident(),
                confirm_offers=self._confirm_offers(),
            )
        )
        self.query_one("#rb-steps", Static).update(
            steps_view(self.runbook, self.record, self._polls, self.poll_every, self._shown())
        )
        resume = resumable_text(self.resumable)
        if self.lease_note:  # the refusal stays on screen until the next run starts
            resume = Group(Text(f"⊘ {self.lease_note}", style="bold #e5c07b"), resume)
        self.query_one("#rb-resume", Static).update(resume)
        self.refresh_bindings()

    def _shown(self) -> dict[str, Any]:
        """What the plan's placeholders read: the function's fields, the params as typed
        (or as run)."""
        snap = self.app.snapshot
        h = snap.by_id().get(self.function_id) if snap is not None else None
        shown: dict[str, Any] = {"function.id": self.function_id}
        if h is not None:
            for name in FUNCTION_FIELDS:
                value = getattr(h.function, name, None)
                if value not in (None, ""):
                    shown[f"function.{name}"] = value
        shown.update(self._values or self.form.raw())
        return shown

    # -- params ------------------------------------------------------------------------

    @property
    def form(self) -> ParamsForm:
        return self.query_one(ParamsForm)

    def params(self) -> dict[str, Any] | None:
        """Every param's value, or None (each problem is shown next to its input)."""
        snap = self.app.snapshot
        ids = frozenset(h.id for h in snap.functions) if snap is not None else None
        return self.form.values(ids)

    @on(Input.Changed)
    def _param_changed(self, event: Input.Changed) -> None:
        self._dry_values = None  # new values need a new dry run
        if self.form.errors:
            self.params()
        self.redraw()

    @on(Input.Submitted)
    def _param_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._go()

    def _dry_ok(self) -> bool:
        return self._dry_values is not None

    # -- keys --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("dry_run", "run"):
            if (action == "run") != self._dry_ok():
                return False
            return None if self.activity else True
        if action == "cancel_run":
            busy = self.activity is not None and self._executor is not None
            return busy and self.mode in ("run", "resume", "undo")  # a dry run changes nothing
        if action == "undo":
            return self.activity is None and bool(undoable(self.record, self.runbook))
        if action == "resume":
            return self.activity is None and bool(self.resumable)
        if action == "incident":
            return self.app.desk is not None
        if action == "runbook":
            return self.activity is None
        return True

    def action_dry_run(self) -> None:
        self._go()

    def action_run(self) -> None:
        self._go()

    def _go(self) -> None:
        if self.activity:
            self.notify("A run is in progress.", timeout=2)
            return
        values = self.params()
        if values is None:
            self.form.focus_first_error()
            self.redraw()
            return
        if self._dry_values is not None and self._dry_values == values:
            if self._should_offer():
                self._offer(values)
            else:
                self._start("run", "Running", values)
        else:
            self._start("dry", "Dry run in progress", values)

    def _no_incident(self) -> bool:
        """Incidents are on, none is open on this function, and this runbook may change
        something (read-only refuses every change: nothing to record)."""
        app = self.app
        if app.desk is None or self._env[2]:
            return False
        active = app.active_incident(self.function_id)
        return active is None and any(s.may_mutate for s in self.runbook.steps)

    def _should_offer(self) -> bool:
        """In production, before the first real run that may change something with no
        incident open: ask (Enter opens one). Elsewhere the run's first confirmation offers
        it (see :meth:`_confirm`), and the summary line says ``i`` opens one."""
        return self._env[1] and not self._offered and self._no_incident()

    def _offer(self, values: dict[str, Any]) -> None:
        from console.tui.dialogs.offer_incident import OfferIncidentScreen

        title, severity = self._incident_defaults()

        def answered(answer: bool | None) -> None:
            if answer is None:
                return  # Esc: back to the runner, nothing ran
            self._offered = True
            if answer:
                self._open_then_run(title, severity, values)
            else:
                self._start("run", "Running", values)

        self.app.push_screen(
            OfferIncidentScreen(self.function_id, title, production=self._env[1]), answered
        )

    @work(group="offer-incident", exit_on_error=False)
    async def _open_then_run(self, title: str, severity: str, values: dict[str, Any]) -> None:
        # The incident is written first, so the run's first step is already recorded in it.
        self.activity = "Opening an incident"
        self.redraw()
        await self._open_incident(title, severity)
        self.activity = None
        self._start("run", "Running", values)

    def action_incident(self) -> None:
        """Open an incident on this function, or its open incident's timeline."""
        self.app.open_incident_for(self.function_id)

    def action_runbook(self) -> None:
        """Another runbook on this function (the picker when it has several)."""
        self.app.open_runbooks(self.function_id)

    def action_cancel_run(self) -> None:
        if self._executor is not None and self.activity:
            self._executor.cancel()
            self.activity = "Cancelling: the run stops now (an action in progress finishes first)"
            self.redraw()

    def action_undo(self) -> None:
        if (
            self.activity is None
            and self.record is not None
            and undoable(self.record, self.runbook)
        ):
            self._start("undo", "Undoing the done steps", dict(self.record.params), self.record.id)

    def action_resume(self) -> None:
        if self.activity is None and self.resumable:
            run = self.resumable[0]
            self.record = run  # its steps as they stopped, while the operator is asked
            self._start("resume", f"Resuming run {run.id}", dict(run.params), run.id)

    def action_back(self) -> None:
        if self.activity:
            self.notify("A run is in progress: c cancels it.", timeout=4)
            return
        self.app.pop_screen()

    # -- the run -----------------------------------------------------------------------

    def _start(
        self,
        mode: str,
        label: str,
        values: dict[str, Any],
        run_id: str = "",
        take_over: bool = False,
    ) -> None:
        self.activity = label
        self.lease_note = None
        self._polls = {}
        self._values = values
        if mode in ("dry", "run"):
            self.record = None
        self._keys_to_screen()
        self.redraw()
        self._worker = self.run_runbook(mode, values, run_id, take_over)

    def on_run_updated(self, message: RunUpdated) -> None:
        self.record = message.record
        self.redraw()

    def on_lease_refused(self, message: LeaseRefused) -> None:
        """Another responder's run holds the function: say who, since when; a stale lease
        may be taken over after a confirmation (recorded with both names)."""
        from console.tui.dialogs.lease_dialog import TakeOverScreen

        self.lease_note = message.refusal
        self.notify(message.refusal, title="Refused", severity="warning", timeout=10, markup=False)
        if not message.stale:
            return
        label = {"resume": "Resuming", "undo": "Undoing the done steps"}.get(
            message.mode, "Running"
        )

        def answered(take: bool | None) -> None:
            if take:
                self._start(message.mode, label, message.values, message.run_id, take_over=True)

        self.app.push_screen(TakeOverScreen(message.refusal), answered)

    def on_run_ended(self, message: RunEnded) -> None:
        self.activity, self._executor, self._live_step = None, None, None
        record = message.record
        if record is not None:
            self.record = record
        if message.mode == "dry":
            ok = record is not None and record.status == "succeeded"
            self._dry_values = self._values if ok else None
        else:
            self._dry_values = None  # after a real run, the next Enter dry-runs again
            self.app.action_refresh_now()  # the fleet shows the effect (or not) at once
        self.load_resumable()
        self._keys_to_screen()
        self.redraw()

    def _keys_to_screen(self) -> None:
        # Once a run starts or ends, c/u/R/q are the runner's keys, not letters of a param:
        # the focus leaves the inputs (Tab brings it back to edit them).
        if isinstance(self.focused, Input):
            self.query_one("#runner-body").focus()

    def load_resumable(self) -> None:
        """Look up the stopped runs in a thread; :class:`ResumableLoaded` brings them back."""
        self._find_resumable(RunStore(runner_context(self.app).store))

    @work(thread=True, exclusive=True, group="resumable", exit_on_error=False)
    def _find_resumable(self, runs: RunStore) -> None:
        # SQLite and the reconcile of crashed runs stay off the UI thread.
        try:
            found = stopped_runs(runs.recent(200), self.runbook.id, self.function_id, RESUMABLE)
        except Exception as exc:
            self.post_message(WorkFailed("Stopped runs", exc))
            return
        self.post_message(ResumableLoaded(found))

    def on_resumable_loaded(self, message: ResumableLoaded) -> None:
        """Stopped real runs of this runbook on this function, newest first."""
        current = self._executor.current_run if self._executor else None
        self.resumable = [r for r in message.runs if r.id != current]
        self.redraw()


@dataclass
class ResumableLoaded(Message):
    """The stopped runs a runner can resume (newest first), read off the UI thread."""

    runs: list[RunRecord]
