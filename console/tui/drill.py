"""The console in a drill: the same app, watched — every screen opened, every key pressed.

:class:`DrillApp` is the console on a drill's fleet and store. It records what the scorecard
needs as events (``drill.injected`` when the hidden failure begins, ``drill.screen`` for each
function screen opened, ``drill.key`` for each key; typed text in one input counts once),
shows the elapsed time in every header, and ends the drill when the mitigation is verified
(and no incident is left open) or on ``q``: the scorecard, computed from the events alone,
is recorded on the drill's incident and shown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from textual import events
from textual.screen import Screen
from textual.widgets import Input

from console.core import events as ev
from console.core.drill_score import Scorecard, fmt_s, score
from console.engine.drills.recorder import DrillRecorder
from console.engine.drills.store import drill_events, finish, scorecard_rows
from console.engine.incidents.lifecycle import list_incidents
from console.engine.store.events import EventLog
from console.tui.app import CallboardApp
from console.tui.dialogs.scorecard import ScorecardScreen
from console.tui.run_driver import RunDriverScreen
from console.tui.screens.function import FunctionScreen
from console.tui.screens.traces import TracesScreen

if TYPE_CHECKING:
    from console.context import AppContext
    from console.engine.drills.plan import DrillPlan
    from console.engine.fleet.refresh import Fleet
    from console.engine.store.base import StoreLike

__all__ = ["DrillApp"]

#: The screen names ``drill.screen`` records (and ``wait: screen`` in a script knows).
_SCREENS: tuple[tuple[type[Screen[Any]], str], ...] = (
    (FunctionScreen, "function"),
    (TracesScreen, "traces"),
    (RunDriverScreen, "runner"),
)


def screen_name(screen: Screen[Any]) -> str:
    """What a drill calls ``screen`` (its class name, lower case, without ``screen``)."""
    for cls, name in _SCREENS:
        if isinstance(screen, cls):
            return name
    return type(screen).__name__.removesuffix("Screen").lower() or "screen"


class DrillApp(CallboardApp):
    """The console running one drill (see the module docstring)."""

    def __init__(
        self,
        fleet: Fleet,
        *,
        store: StoreLike,
        context: AppContext | None,
        drill_id: str,
        plan: DrillPlan,
        started: float,
        clock: Callable[[], float],
        refresh_interval: float = 5.0,
        run_sleep: Callable[[float], Awaitable[None]] | None = None,
        actor: str | None = None,
        owns_fleet: bool = False,
    ) -> None:
        super().__init__(
            fleet,
            refresh_interval=refresh_interval,
            context=context,
            store=store,
            owns_fleet=owns_fleet,
        )
        self.drill_id = drill_id
        self.plan = plan
        self.started = started
        self.inject_at = started + plan.delay_s
        self.clock = clock
        self.drill_log = EventLog(store, actor)
        self.recorder = DrillRecorder(self.drill_log, drill_id, clock)
        #: A headless drill's runs wait on its simulated clock (None: real time).
        self.run_sleep = run_sleep
        self.injected = False
        #: The scorecard once the drill ended (None while it runs).
        self.card: Scorecard | None = None
        self._typing: Input | None = None

    # -- the banner and the end ----------------------------------------------------------

    def on_mount(self) -> None:
        super().on_mount()
        self._banner()
        self.set_interval(1.0, self.drill_tick)

    def _banner(self) -> None:
        if self.card is None:
            self.drill_banner = f"DRILL {fmt_s(max(0.0, self.clock() - self.started))}"

    def drill_tick(self) -> None:
        """Each second: the banner, the injection, and whether the drill is done."""
        self._banner()
        self._check_injected()
        if self.card is None:
            self.run_worker(self._check_done, thread=True, group="drill-check", exclusive=True)

    def _check_injected(self) -> None:
        if not self.injected and self.clock() >= self.inject_at:
            self.injected = True
            self.recorder.record(ev.drill_injected(self.plan.modes), at=self.inject_at)

    def _done(self) -> bool:
        """Every mode is cured (verified by its runbook) and no incident is left open."""
        card = self.current()
        store = self.drill_log.store
        return card is not None and card.verified and not list_incidents(store, active_only=True)

    def _check_done(self) -> None:
        """In a thread: end the drill once it is done (see :meth:`_done`)."""
        if self._done():
            self.call_from_thread(self.end_drill, "verified")

    def check_now(self) -> None:
        """End the drill now if it is done (a headless drill asks after each line)."""
        if self.card is None and self._done():
            self.end_drill("verified")

    def current(self) -> Scorecard | None:
        """The scorecard so far (or the final one), read from the events."""
        if self.card is not None:
            return self.card
        self.recorder.flush()
        return score(drill_events(self.drill_log.store))

    def end_drill(self, reason: str) -> None:
        """Record the scorecard and show it (once); closing it leaves the console."""
        if self.card is not None:
            return
        self.recorder.flush()
        card = finish(
            self.drill_log.store, self.drill_log, self.drill_id, reason, at=self.now_iso()
        )
        self.recorder.close()
        if card is None:
            self.exit()
            return
        self.card = card
        self.drill_banner = f"DRILL over: {reason}"
        head = (
            f"Drill {self.drill_id}: mitigation verified in {fmt_s(card.mitigated_s)}"
            if card.verified
            else f"Drill {self.drill_id}: ended ({reason}) before the mitigation was verified"
        )
        foot = f"callboard export {self.drill_id} — the drill's record with this scorecard"
        self.push_screen(ScorecardScreen(head, scorecard_rows(card), foot), self._leave)

    def _leave(self, _: object = None) -> None:
        """The scorecard closed: leave (a run still going is stopped as ``q`` stops it)."""
        self.leave_guard.leave_runs(self.exit, "quit", self.leave_wait_s)

    async def action_quit(self) -> None:
        """``q``: end the drill and show its scorecard; ``q`` on the scorecard leaves."""
        if self.card is None:
            self._check_injected()
            self.end_drill("quit")
            return
        await super().action_quit()

    async def on_unmount(self) -> None:
        self.recorder.close()
        await super().on_unmount()

    # -- what the trainee does -------------------------------------------------------------

    def on_snapshot_ready(self, message: Any) -> None:
        self._check_injected()
        super().on_snapshot_ready(message)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded and self.card is None:
            self._count(event)
        await super().on_event(event)

    def _count(self, event: events.Key) -> None:
        """One ``drill.key`` per key; a run of characters typed into one input counts once."""
        focused = self.focused
        if isinstance(focused, Input) and event.is_printable:
            if self._typing is focused:
                return
            self._typing = focused
            key = "text"
        else:
            self._typing = None
            key = event.key
        self.recorder.record(ev.drill_key(key, screen_name(self.screen)))

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        """Every screen opened on a function is recorded (its first opening detects)."""
        if isinstance(screen, RunDriverScreen) and self.run_sleep is not None:
            screen.sleep = self.run_sleep  # verify polls wait on the drill's clock
        if isinstance(screen, Screen):
            self._opened(screen)
        return super().push_screen(screen, *args, **kwargs)

    def _opened(self, screen: Screen[Any]) -> None:
        name = screen_name(screen)
        fid: str | None = None
        if isinstance(screen, FunctionScreen | RunDriverScreen):
            fid = screen.function_id
        elif isinstance(screen, TracesScreen):
            fid = screen.function.id
        if fid is None or self.card is not None:
            return
        self.recorder.record(ev.drill_screen(name), function_id=fid)
