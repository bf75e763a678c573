"""Runbook trials: a runbook run for real on a fresh demo fleet showing its failure mode.

``callboard runbooks test`` calls :func:`trial_runbook` once per runbook and declared
failure mode. Each trial builds its own demo fleet over an in-memory store (nothing the
operator's store holds is read or written) and a :class:`SimClock`, the demo's simulated
time: a verify's wait between polls advances that clock instead of sleeping, so a trial
takes milliseconds of wall time whatever its ``within``. Four checks, each ``ok`` True,
False, or None (not applicable, said why):

- ``params``: every param gets a value (given, default, ``from: evidence.<fact>`` read off
  the demo's finding, or the runbook's ``test: {params: ...}``), typed and within limits.
- ``dry_run``: every step plans (an action through the demo's ``plan``).
- ``cures``: a real run (every confirmation answered yes, read-only off) succeeds and the
  function's finding for the mode is gone afterwards.
- ``undo``: where a step declares an undo, undoing the run brings back the findings the
  function had before the run.

A ``command`` or ``http`` step would reach outside the demo (a real process, a real URL),
so a runbook with one is planned but never run for real: ``cures`` and ``undo`` say so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from console.core.model import FailureMode
from console.core.runbook import Runbook
from console.core.runbook_params import from_evidence, resolve_params
from console.errors import UserError

if TYPE_CHECKING:
    from console.engine.fleet.refresh import Fleet
    from console.engine.runbooks.executor import Executor
    from console.engine.runbooks.runs import RunRecord
    from console.engine.store.sqlite import Store

__all__ = ["CHECKS", "Check", "SimClock", "Trial", "trial_runbook"]

#: The checks of a trial, in the order they run.
CHECKS = ("params", "dry_run", "cures", "undo")
#: Simulated seconds a trial may take (a verify's polls advance the clock).
SIM_BUDGET_S = 6 * 3600.0
#: Wall seconds a trial may take before it is stopped (a stuck plugin, a huge ``within``).
WALL_BUDGET_S = 120.0
#: Where the simulated clock starts: a fixed moment, so a trial is the same every time.
SIM_START = 1_800_000_000.0


class SimClock:
    """The demo's simulated time: ``clock()`` reads it, ``advance(s)`` or ``await sleep(s)``
    moves it (a trial's and a headless drill's clock).

    Past ``budget_s`` simulated seconds, ``sleep`` calls ``on_budget`` (the trial cancels
    its run there: a verify's wait ends at once).
    """

    def __init__(self, start: float = SIM_START, budget_s: float = SIM_BUDGET_S) -> None:
        self.start = start
        self.now = start
        self.budget_s = budget_s
        self.on_budget: Callable[[], None] | None = None

    def __call__(self) -> float:
        return self.now

    @property
    def elapsed(self) -> float:
        return self.now - self.start

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        """What a run's wait becomes: the clock moves, the loop gets a turn."""
        self.advance(max(0.0, float(seconds)))
        if self.elapsed > self.budget_s and self.on_budget is not None:
            self.on_budget()
        await asyncio.sleep(0)


@dataclass
class Check:
    """One check of a trial: passed (True), failed (False) or not applicable (None)."""

    ok: bool | None
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail}


@dataclass
class Trial:
    """One runbook tried against one failure mode on the demo."""

    runbook: str
    path: str
    mode: str | None
    function: str | None = None
    checks: dict[str, Check] = field(default_factory=dict)
    #: Simulated seconds the trial took on the demo's clock (None: no run was made).
    simulated_s: float | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok is not False for c in self.checks.values())

    @property
    def reason(self) -> str | None:
        """The first failed check, as ``check: detail`` (None when it passed)."""
        for name in CHECKS:
            c = self.checks.get(name)
            if c is not None and c.ok is False:
                return f"{name}: {c.detail}"
        return None

    def line(self) -> str:
        """``rollback-bad-deploy (F1): cures: step finding-clears failed: ...``."""
        where = f" ({self.mode})" if self.mode else ""
        return f"{self.runbook}{where}: {self.reason or 'ok'}"

    def to_json(self) -> dict[str, Any]:
        return {
            "runbook": self.runbook,
            "path": self.path,
            "mode": self.mode,
            "function": self.function,
            "ok": self.ok,
            "reason": self.reason,
            "checks": {name: self.checks[name].to_json() for name in CHECKS if name in self.checks},
            "simulated_s": self.simulated_s,
        }


def _first(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0] if lines else ""


def _outside(rb: Runbook) -> list[str]:
    """The steps (and undos) that would reach outside the demo when run for real."""
    out = []
    for step in rb.steps:
        for s in (step, step.undo):
            if s is not None and s.kind in ("command", "http"):
                out.append(s.id)
    return out


def _stopped(record: RunRecord, *, budget: bool) -> str:
    """Why a run did not succeed: its first step that did not end done."""
    for s in record.steps:
        if s.status not in ("done", "pending", "planned"):
            seen = _first(s.output.splitlines()[-1] if s.output else "")
            if budget and s.status == "cancelled":
                return (
                    f"step {s.id} still waiting after {SIM_BUDGET_S / 3600:g}h of simulated "
                    f"time: {seen}"
                )
            return f"step {s.id} {s.status}: {seen}"
    return f"the run ended {record.status}"


async def _modes(fleet: Fleet, function_id: str) -> set[FailureMode]:
    snap = await fleet.refresh()
    health = snap.by_id().get(function_id)
    return set() if health is None else {f.mode for f in health.findings}


def _names(modes: set[FailureMode]) -> str:
    return ", ".join(sorted((m.value for m in modes), key=lambda v: int(v[1:]))) or "none"


async def trial_runbook(
    rb: Runbook,
    mode: FailureMode | None,
    given: Mapping[str, object] | None = None,
    *,
    wall_budget_s: float = WALL_BUDGET_S,
) -> Trial:
    """Try ``rb`` against ``mode`` on a fresh demo fleet (see the module docstring).

    ``given``: param values from the command line; they win over the runbook's ``test``
    values. Never raises for a runbook that does not work: its checks say why.
    """
    trial = Trial(rb.id, rb.path, None if mode is None else mode.value)
    if mode is None:
        _static_params(trial, rb, given)
        for name in ("dry_run", "cures", "undo"):
            trial.checks[name] = Check(None, "declares no failure mode: nothing to try it on")
        return trial
    from console.config import Config
    from console.engine.fleet.build import build_fleet
    from console.engine.store.sqlite import Store as SQLiteStore

    clock = SimClock()
    store = SQLiteStore(":memory:")
    fleet = build_fleet(Config.demo_only(), store=store, clock=clock, demo=True, runbooks={})
    try:
        await asyncio.wait_for(
            _try(trial, rb, mode, given or {}, fleet, store, clock), wall_budget_s
        )
    except TimeoutError:
        for name in CHECKS:
            if name not in trial.checks:
                trial.checks[name] = Check(False, f"did not finish within {wall_budget_s:g}s")
                break
    finally:
        await fleet.aclose()
        store.close()
    for name in CHECKS:
        trial.checks.setdefault(name, Check(None, "not run: an earlier check failed"))
    trial.simulated_s = round(clock.elapsed, 3)
    return trial


def _static_params(trial: Trial, rb: Runbook, given: Mapping[str, object] | None) -> None:
    values = {**rb.test_params, **(given or {})}
    # a param read off a finding has no finding to read here: the others are checked
    checked = [p for p in rb.params if not (p.source and p.name not in values)]
    try:
        resolved = resolve_params(checked, values)
    except UserError as exc:
        trial.checks["params"] = Check(False, _one_line(str(exc)))
        return
    trial.checks["params"] = Check(True, _params_text(rb, resolved))


def _one_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if lines and lines[0].endswith(":") and len(lines) > 1:
        lines = lines[1:]
    return "; ".join(lines)


def _params_text(rb: Runbook, values: Mapping[str, Any]) -> str:
    if not rb.params:
        return "no params"
    return ", ".join(
        f"{p.name}={values[p.name]}" if p.name in values else p.name for p in rb.params
    )


async def _try(
    trial: Trial,
    rb: Runbook,
    mode: FailureMode,
    given: Mapping[str, object],
    fleet: Fleet,
    store: Store,
    clock: SimClock,
) -> None:
    from console.engine.runbooks.executor import Executor

    snap = await fleet.refresh()
    showing = sorted(
        (h for h in snap.functions if any(f.mode is mode for f in h.findings)),
        key=lambda h: h.function.id,
    )
    if not showing:
        _static_params(trial, rb, given)
        trial.checks["dry_run"] = Check(None, f"no demo function shows {mode.value}")
        trial.checks["cures"] = Check(False, f"the demo fleet shows no {mode.value} to cure")
        return
    health = showing[0]
    fid = trial.function = health.function.id
    finding = next(f for f in health.findings if f.mode is mode)
    # params: the runbook's test values, the command line's, and what the finding names
    values: dict[str, object] = {**rb.test_params, **given}
    missing = [
        f"param {p.name}: from {p.source}, but the demo's {mode.value} finding on {fid} has "
        f"no such fact (it names: {', '.join(sorted(finding.facts)) or 'none'})"
        for p in rb.params
        if p.source and p.name not in values and p.source[len("evidence.") :] not in finding.facts
    ]
    values = {**from_evidence(rb.params, finding.facts), **values}
    try:
        resolved = resolve_params(rb.params, values, frozenset(h.id for h in snap.functions))
    except UserError as exc:
        missing.append(_one_line(str(exc)))
    if missing:
        trial.checks["params"] = Check(False, "; ".join(missing))
        return
    trial.checks["params"] = Check(True, _params_text(rb, resolved))

    async def yes(_: Any) -> bool:
        return True

    def executor() -> Executor:
        return Executor(
            fleet, store, secret=lambda name: f"<test secret {name}>", confirm=yes,
            decide=None, read_only=False, sleep=clock.sleep,
        )  # fmt: skip

    planner = executor()
    try:
        dry = await planner.start(rb, fid, resolved, dry_run=True, no_incident=True)
    finally:
        await planner.aclose()
    unplanned = [s for s in dry.steps if s.status != "planned"]
    if dry.status != "succeeded" or unplanned:
        why = "; ".join(f"step {s.id} {s.status}: {_first(s.output)}" for s in unplanned)
        trial.checks["dry_run"] = Check(False, why or f"the dry run ended {dry.status}")
        return
    trial.checks["dry_run"] = Check(True, f"{len(dry.steps)} steps planned")
    outside = _outside(rb)
    if outside:
        why = f"steps {', '.join(outside)} would act outside the demo: not run for real"
        trial.checks["cures"] = Check(None, why)
        trial.checks["undo"] = Check(None, why)
        return
    before = await _modes(fleet, fid)
    runner = executor()
    over_budget = False

    def stop() -> None:
        nonlocal over_budget
        over_budget = True
        runner.cancel()

    clock.on_budget = stop
    try:
        run = await runner.start(rb, fid, resolved, no_incident=True)
        after = await _modes(fleet, fid)
        if run.status != "succeeded":
            trial.checks["cures"] = Check(False, _stopped(run, budget=over_budget))
            return
        if mode in after:
            trial.checks["cures"] = Check(
                False, f"the run succeeded but {mode.value} is still diagnosed on {fid}"
            )
            return
        took = f"{clock.elapsed:g}s simulated"
        trial.checks["cures"] = Check(True, f"{mode.value} cleared on {fid} ({took})")
        await _undo(trial, rb, run, resolved, runner, fleet, fid, before)
    finally:
        clock.on_budget = None
        await runner.aclose()


async def _undo(
    trial: Trial,
    rb: Runbook,
    run: RunRecord,
    params: Mapping[str, Any],
    runner: Executor,
    fleet: Fleet,
    fid: str,
    before: set[FailureMode],
) -> None:
    with_undo = [s.id for s in rb.steps if s.undo is not None]
    if not with_undo:
        trial.checks["undo"] = Check(None, "no step declares an undo")
        return
    undone = await runner.undo(rb, run.id, params)
    if undone.status != "undone":
        bad = [s for s in undone.steps if s.id.endswith(".undo") and s.status != "done"]
        why = f"step {bad[0].id} {bad[0].status}: {_first(bad[0].output)}" if bad else ""
        trial.checks["undo"] = Check(False, why or f"the undo ended {undone.status}")
        return
    now = await _modes(fleet, fid)
    # a mutating step without an undo changed something for good: compare what the undo
    # can answer for, the failure mode the run cured
    lasting = [s.id for s in rb.steps if s.undo is None and s.may_mutate]
    if lasting:
        ok = trial.mode is not None and FailureMode(trial.mode) in now
        detail = (
            f"{trial.mode} is back on {fid} after undoing {', '.join(with_undo)} "
            f"(steps {', '.join(lasting)} have no undo)"
            if ok
            else f"{trial.mode} is not back on {fid} after the undo (findings: {_names(now)})"
        )
        trial.checks["undo"] = Check(ok, detail)
        return
    if now == before:
        trial.checks["undo"] = Check(True, f"findings on {fid} as before the run: {_names(now)}")
    else:
        trial.checks["undo"] = Check(
            False,
            f"findings on {fid} after the undo: {_names(now)}; before the run: {_names(before)}",
        )
