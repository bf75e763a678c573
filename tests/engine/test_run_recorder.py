"""The executor's run recorder: the run in memory is the run in the store, and a run the
executor cannot finish is never left marked running — whoever drives it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from console.config import Config
from console.core.runbook import Runbook, parse_runbook
from console.engine.fleet.build import build_fleet
from console.engine.runbooks.confirmation import ConfirmRequest
from console.engine.runbooks.executor import Executor
from console.engine.runbooks.runs import RunStore
from console.engine.store.base import StoreLike
from console.engine.store.events import EventLog
from console.engine.store.sqlite import Store
from console.yamlload import load_yaml_text

REPORTS = "reports:job nightly"
SCALE = """\
id: t-scale
title: scale out
steps:
  - {id: scale, kind: action, action: scale, params: {replicas: 3},
     undo: {kind: action, action: scale, params: {replicas: 1}, confirm: true}}
  - {id: ask, kind: manual, text: look at the graphs}
"""


def runbook(text: str) -> Runbook:
    data, lines = load_yaml_text(text, "t.yaml")
    return parse_runbook(data, lines, "t.yaml")


async def _nap(_: float) -> None:
    return None


def executor(stores: Callable[[], StoreLike], confirm: Any) -> tuple[StoreLike, Executor]:
    store = stores()  # on each engine
    fleet = build_fleet(Config.demo_only(), store=store)
    return store, Executor(fleet, store, secret=str, poll_every=0, sleep=_nap, confirm=confirm)


async def test_every_run_the_executor_returns_is_the_run_the_store_holds(
    stores: Callable[[], StoreLike],
) -> None:
    answers = [False, False, True, True]  # the manual step refused; one undo refused, then ok

    async def confirm(_: ConfirmRequest) -> bool:
        return answers.pop(0)

    store, ex = executor(stores, confirm)
    rb = runbook(SCALE)
    runs = RunStore(store)
    run = await ex.start(rb, REPORTS, {})
    assert run.status == "refused" and run == runs.get(run.id)
    run = await ex.undo(rb, run.id, {})  # the undo asks (confirm: true) and is refused
    assert run.status == "refused" and run == runs.get(run.id)
    run = await ex.undo(rb, run.id, {})  # asked again: one row for the undo step, not two
    assert [s.id for s in run.steps] == ["scale", "ask", "scale.undo"]
    assert run == runs.get(run.id)
    run = await ex.resume(rb, run.id, {})
    assert run.status == "succeeded" and run == runs.get(run.id)
    ended = [e.data["status"] for e in EventLog(store).iter(run_id=run.id) if e.kind == "run.ended"]
    assert ended == ["refused", "refused", "refused", "succeeded"]


class Watched(Store):
    """A store noting which tables each write (a transaction or one statement) changed."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes: list[set[str]] = []
        self._open_write: set[str] | None = None

    def _note(self, action: int, table: str | None, *_: Any) -> int:
        writes = action in (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE)
        if writes and self._open_write is not None and table is not None:
            self._open_write.add(table)
        return sqlite3.SQLITE_OK

    @contextmanager
    def _watch(self) -> Iterator[None]:
        outer = self._open_write is None
        if outer:
            self._open_write = set()
            self.conn.set_authorizer(self._note)
        try:
            yield
        finally:
            if outer:
                self.conn.set_authorizer(None)
                if self._open_write:
                    self.writes.append(self._open_write)
                self._open_write = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._watch(), super().transaction() as conn:
            yield conn

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        with self._watch():
            return super().execute(sql, params)


async def test_each_change_to_a_run_is_one_write_of_its_row_and_its_event(
    tmp_path: Path,
) -> None:
    store = Watched(tmp_path / "cb.db")
    fleet = build_fleet(Config.demo_only(), store=store)
    rb = runbook(
        "id: w\ntitle: t\nsteps:\n  - {id: say, kind: note, text: hello}\n"
        "  - {id: look, kind: check, signal: timeout_rate, op: '>', value: 0.02}\n"
    )
    store.open()  # the schema is in place before the watching starts
    store.writes.clear()
    run = await Executor(fleet, store, secret=str).start(rb, "checkout:POST /pay", {})
    assert run.status == "succeeded"
    run_writes = [w for w in store.writes if w & {"runs", "steps"}]
    # started; each step's intent and its result; ended — every one with its event
    assert len(run_writes) == 6
    assert all("events" in w for w in run_writes), run_writes


async def test_a_run_whose_task_is_cancelled_is_recorded_cancelled(
    stores: Callable[[], StoreLike],
) -> None:
    asked = asyncio.Event()

    async def confirm(_: ConfirmRequest) -> bool:
        asked.set()
        await asyncio.Event().wait()  # the operator never answers; the screen goes away
        return False

    store, ex = executor(stores, confirm)
    task = asyncio.ensure_future(ex.start(runbook(SCALE), REPORTS, {}))
    await asyncio.wait_for(asked.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    (stored,) = RunStore(store).recent()
    assert stored.status == "cancelled" and stored.ended is not None


async def test_a_run_that_raises_is_interrupted_and_resumable(
    stores: Callable[[], StoreLike],
) -> None:
    async def confirm(_: ConfirmRequest) -> bool:
        raise RuntimeError("the terminal went away")

    store, ex = executor(stores, confirm)
    with pytest.raises(RuntimeError, match="terminal went away"):
        await ex.start(runbook(SCALE), REPORTS, {})
    (stored,) = RunStore(store).recent()
    assert stored.status == "interrupted"
    assert stored == ex.current  # what a driver shows is what was recorded
