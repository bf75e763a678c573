"""A headless drill: a script's keys played through Textual's Pilot on a simulated clock.

The clock moves only when the script makes it: a second per key, the seconds of a
``wait: 30s``, a refresh's worth (15 s) per round of ``wait: finding``, and each verify
step's ``every`` while a run watches its signal. So a scripted drill's times, keys and
moves are the same on every machine, and it takes a moment of real time. Every wait is
bounded: a condition never met fails the drill with the line that waited for it.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Sequence

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

from console.core.drill_script import Action, ScriptError
from console.engine.runbooks.trial import SimClock
from console.tui.drill import DrillApp, screen_name
from console.tui.run_driver import RunDriverScreen

__all__ = ["SimClock", "play"]

#: Seconds a key costs on the simulated clock.
KEY_S = 1.0
#: Seconds between two refreshes while ``wait: finding`` waits.
POLL_S = 15.0
#: Rounds of ``wait: finding`` before it gives up (an hour of the drill's time).
FINDING_ROUNDS = 240
#: Rounds any other wait allows (each lets the running thread workers finish, then the
#: messages be handled: no wall-clock sleep).
ROUNDS = 2000


def screen_text(app: DrillApp) -> str:
    """What the top screen says: its texts, inputs, buttons and the notifications on show."""
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    for w in app.screen.query(Static):
        console.print(w.content)
    for i in app.screen.query(Input):
        out.write(i.value + "\n")
    for b in app.screen.query(Button):
        out.write(f"{b.label}\n")
    for n in app._notifications:
        out.write(f"{n.title or ''} {n.message}\n")
    return out.getvalue()


async def settle(app: DrillApp, pilot: Pilot[None]) -> None:
    """Let the app catch up: the thread workers running now finish (store writes and reads,
    loading a runbook: none waits on the user), then the messages they posted are handled.
    A run's async worker is not waited for: it may be asking a question."""
    # Textual has no public "is a thread worker" flag
    threads = [w for w in app.workers if w._thread_worker and not w.is_finished]
    for w in threads:
        with contextlib.suppress(Exception):  # its failure is the app's to show
            await w.wait()
    await pilot.pause()


async def _until(pilot: Pilot[None], cond: Callable[[], bool], what: str, line: int) -> None:
    app = pilot.app
    assert isinstance(app, DrillApp)
    for _ in range(ROUNDS):
        if cond():
            return
        await settle(app, pilot)
    assert isinstance(app, DrillApp)
    shown = " ".join(screen_text(app).split())[:300]
    raise ScriptError(
        f"script line {line}: waited for {what}, which never came (on the "
        f"{screen_name(app.screen)} screen: {shown})"
    )


def _ran(app: DrillApp) -> bool:
    screen = app.screen
    return isinstance(screen, RunDriverScreen) and not screen.running


async def _wait(app: DrillApp, pilot: Pilot[None], clock: SimClock, a: Action) -> None:
    if a.condition == "seconds":
        clock.advance(a.seconds)
        app.action_refresh_now()
        await pilot.pause()
        app.drill_tick()
    elif a.condition in ("finding", "page"):
        wanted = ("page",) if a.condition == "page" else ("page", "ticket", "info")
        for _ in range(FINDING_ROUNDS):
            snap = app.snapshot
            if snap is not None and any(
                f.severity in wanted for h in snap.functions for f in h.findings
            ):
                return
            clock.advance(POLL_S)
            app.drill_tick()
            app.action_refresh_now()
            await _until(pilot, lambda: not app.refreshing and app._refresh is not None
                         and app._refresh.is_finished, "a refresh", a.line)  # fmt: skip
            await settle(app, pilot)
        raise ScriptError(f"script line {a.line}: no {a.condition} showed within an hour")
    elif a.condition == "run":
        await _until(pilot, lambda: _ran(app), "the run to finish", a.line)
    elif a.condition == "screen":
        await _until(pilot, lambda: screen_name(app.screen) == a.arg, f"the {a.arg} screen", a.line)
    elif a.condition == "text":
        await _until(pilot, lambda: a.arg in screen_text(app), repr(a.arg), a.line)


async def play(
    app: DrillApp, pilot: Pilot[None], clock: SimClock, actions: Sequence[Action]
) -> None:
    """Play ``actions`` on ``app``; the drill ends when it is verified, on ``q``, or (if the
    script stops before either) as quit when the script is over."""
    await _until(pilot, lambda: app.snapshot is not None, "the first refresh", 0)
    for a in actions:
        if app.card is not None:
            break  # the drill is over: the scorecard is up
        if a.kind == "wait":
            await _wait(app, pilot, clock, a)
        elif a.kind == "type":
            clock.advance(KEY_S)
            await pilot.press(*a.arg)
        else:
            clock.advance(KEY_S)
            await pilot.press(a.arg)
        await settle(app, pilot)
        app.drill_tick()
        app.check_now()
    if app.card is None:
        app.end_drill("quit")
