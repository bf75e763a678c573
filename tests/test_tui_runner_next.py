"""The runner's keys do what the footer says, and the next step is one key away.

Issue 13: after a run (or while a verify polls) the focus stayed in the param input, so
``c``/``u``/``q`` were typed into it; ``r`` and ``i`` did nothing on the traces, waterfall
and runner screens; a first real run without an incident offered none; required params
were not prefilled from the finding's evidence.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input

from console.context import AppContext
from console.core.runbook import load_runbook
from console.tui.screens.runner import RunnerScreen
from tests.test_tui import settled
from tests.test_tui_runner import NO_RECEIVER, PAY, SIZE, dry_run, idle, make_app, until


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    context = AppContext(db_path=str(tmp_path / "cb.db"), demo=True, _config=NO_RECEIVER)
    yield context
    context.close()


WAIT = """\
id: wait-for-timeouts
title: Wait for timeouts to recover (they will not)
params:
  note: {type: string, description: a required word}
steps:
  - {id: recover, kind: verify, signal: timeout_rate, op: "<", value: 0.02, within: 1m, every: 15s}
"""


async def test_keys_act_after_a_run_and_while_a_verify_polls(
    ctx: AppContext, tmp_path: Path
) -> None:
    rb_file = tmp_path / "wait.yaml"
    rb_file.write_text(WAIT)
    polled, release = asyncio.Event(), asyncio.Event()

    async def gated(_: float) -> None:
        polled.set()
        await release.wait()

    app = make_app(ctx)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        screen = RunnerScreen(load_runbook(rb_file), PAY, app.env, sleep=gated)
        await app.push_screen(screen)
        await pilot.pause()
        box = screen.query_one("#param-0", Input)
        assert app.focused is box  # the required param: typing goes there first
        await pilot.press(*"oops")
        await dry_run(pilot, screen)
        assert not isinstance(app.focused, Input)  # the run ended: keys are keys again
        await pilot.press("u", "c")
        assert box.value == "oops"
        await pilot.press("enter")  # the footer says: run for real
        await until(pilot, polled.is_set, "the first poll")
        assert not isinstance(app.focused, Input)
        await pilot.press("c")  # cancel, while the verify waits
        await idle(pilot, screen)
        assert screen.record is not None and screen.record.status == "cancelled"
        assert box.value == "oops"
        release.set()
