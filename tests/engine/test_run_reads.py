"""A runbook's check and verify read one function's signals, never the whole fleet.

A counting backend (inventory, metrics, baselines, alerts and deploys in one plugin) records
every call it gets: a check and each verify poll ask ``signals`` for the run's function
only, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from console.core.model import Alert, Deploy, Function, Signals
from console.core.runbook import Runbook, parse_runbook
from console.engine.fleet.refresh import Backend, Fleet
from console.engine.runbooks.executor import Executor
from console.engine.store.base import StoreLike
from console.yamlload import load_yaml_text

PAY = "checkout:POST /pay"
OTHER = "checkout:GET /cart"

RECOVERS = """\
id: recovers
title: wait for timeouts to clear
steps:
  - {id: look, kind: check, signal: timeout_rate, op: ">", value: 0.02}
  - {id: ok, kind: verify, signal: timeout_rate, op: "<", value: 0.02, within: 1m, every: 5s}
"""


class Counting:
    """A whole fleet in one plugin; ``timeouts`` are the timeout rates it answers, in turn."""

    def __init__(self, timeouts: list[float]) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.timeouts = timeouts
        self.fns = [Function(PAY, "checkout"), Function(OTHER, "checkout")]

    async def functions(self) -> list[Function]:
        self.calls.append(("functions", ()))
        return list(self.fns)

    async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
        self.calls.append(("signals", tuple(f.id for f in functions)))
        rate = self.timeouts.pop(0) if len(self.timeouts) > 1 else self.timeouts[0]
        return {f.id: Signals(rate_rps=10.0, timeout_rate=rate) for f in functions}

    async def series(self, *_: Any) -> list[tuple[float, float]]:
        return []

    async def baselines(self, functions: list[Function]) -> dict[str, Signals]:
        self.calls.append(("baselines", tuple(f.id for f in functions)))
        return {f.id: Signals(rate_rps=10.0, timeout_rate=0.0) for f in functions}

    async def alerts(self) -> list[Alert]:
        self.calls.append(("alerts", ()))
        return []

    async def deploys(self, function: Function | None, since: float) -> list[Deploy]:
        self.calls.append(("deploys", ()))
        return []

    async def aclose(self) -> None:
        return None


def runbook(text: str) -> Runbook:
    data, lines = load_yaml_text(text, "t.yaml")
    return parse_runbook(data, lines, "t.yaml")


async def _nap(_: float) -> None:
    return None


async def test_a_check_and_each_verify_poll_ask_for_the_runs_function_only(
    stores: Callable[[], StoreLike],
) -> None:
    plugin = Counting([0.08, 0.08, 0.05, 0.01])  # the refresh, the check, two polls failing
    fleet = Fleet([Backend("count", "counting", plugin)])
    await fleet.refresh()  # what the CLI and the console do before a run
    plugin.calls.clear()
    ex = Executor(fleet, stores(), secret=str, poll_every=0, sleep=_nap)
    run = await ex.start(runbook(RECOVERS), PAY, {})
    assert run.status == "succeeded", [s.output for s in run.steps]
    assert "poll 2: timeout_rate = 0.01" in run.steps[1].output
    # one signals call for the check, one per verify poll; no inventory, alerts, deploys
    assert plugin.calls == [("signals", (PAY,))] * 3


async def test_a_verify_poll_leaves_the_fleets_snapshot_alone(tmp_path: Path) -> None:
    plugin = Counting([0.08, 0.01])
    fleet = Fleet([Backend("count", "counting", plugin)])
    before = await fleet.refresh()
    health = await fleet.read_function(PAY)
    assert health is not None and health.signals.timeout_rate == 0.01
    assert fleet.last is before  # the fleet's view changes only with a refresh
    assert await fleet.read_function("nowhere:GET /") is None
