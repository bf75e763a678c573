"""A drill's scorecard, computed from its events alone (pure: no clock, no store).

A drill store holds one drill: ``drill.started`` (the hidden modes, the function each shows
on, the runbooks that cure each), ``drill.injected`` (placed at the moment the failures
began), ``drill.screen`` and ``drill.key`` (what the trainee opened and pressed), and
everything the console wrote meanwhile — runs, incidents, notes. :func:`score` reads them
in chain order and measures, from the moment of injection:

- **detect**: the first screen opened on an affected function;
- **dry run**: the first dry run of a curing runbook on an affected function;
- **mitigated**: the moment every mode has a real run of a curing runbook on its function
  that ended ``succeeded`` (its verify steps watched the signal recover);
- **keys** pressed (typed text in one input counts once), **wrong moves** (a real run of a
  runbook that does not cure what its function shows, or any real run on a healthy
  function), whether an incident was opened and how many notes were written.

A time never reached is None (shown "—"), never 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from console.core.events import EventKind
from console.core.timeline import EventLike, epoch

__all__ = ["Scorecard", "WrongMove", "fmt_s", "score"]


@dataclass(frozen=True, slots=True)
class WrongMove:
    """A move that did not help: when (seconds after injection), what, and why."""

    after_s: float | None
    runbook: str
    function_id: str
    why: str

    def to_json(self) -> dict[str, Any]:
        return {"after_s": self.after_s, "runbook": self.runbook,
                "function": self.function_id, "why": self.why}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Scorecard:
    """What a drill measured (times in seconds after the failure began; None: never)."""

    drill: str | None
    actor: str
    scenario: str
    modes: tuple[str, ...]
    functions: Mapping[str, str]
    seed: int | None
    started_at: str | None
    #: Seconds from the start to the failure (None: it never began).
    injected_after_s: float | None
    detect_s: float | None
    dry_run_s: float | None
    mitigated_s: float | None
    keys: int
    #: Keys pressed up to mitigation verified (None: never verified).
    keys_to_mitigate: int | None
    wrong_moves: tuple[WrongMove, ...] = ()
    incident_opened: bool = False
    notes: int = 0
    #: How it ended: ``verified``, ``quit``, or None while it runs.
    ended: str | None = None
    duration_s: float | None = None
    runs: int = 0

    @property
    def verified(self) -> bool:
        return self.mitigated_s is not None

    def summary(self) -> str:
        """One line: how fast, how many keys, how many wrong moves."""
        parts = [
            f"detected {fmt_s(self.detect_s)}",
            f"dry run {fmt_s(self.dry_run_s)}",
            f"mitigation verified {fmt_s(self.mitigated_s)}",
            f"{self.keys} keys",
            f"{len(self.wrong_moves)} wrong move{'s' if len(self.wrong_moves) != 1 else ''}",
        ]
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "drill": self.drill,
            "actor": self.actor,
            "scenario": self.scenario,
            "modes": list(self.modes),
            "functions": dict(self.functions),
            "seed": self.seed,
            "started_at": self.started_at,
            "injected_after_s": self.injected_after_s,
            "detect_s": self.detect_s,
            "dry_run_s": self.dry_run_s,
            "mitigated_s": self.mitigated_s,
            "verified": self.verified,
            "keys": self.keys,
            "keys_to_mitigate": self.keys_to_mitigate,
            "wrong_moves": [w.to_json() for w in self.wrong_moves],
            "incident_opened": self.incident_opened,
            "notes": self.notes,
            "runs": self.runs,
            "ended": self.ended,
            "duration_s": self.duration_s,
            "summary": self.summary(),
        }


def fmt_s(seconds: float | None) -> str:
    """``75.0`` → ``1m 15s``; None → ``—`` (never reached)."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    m, s = divmod(whole, 60)
    return f"{m}m {s:02d}s"


def _strs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()


@dataclass
class _Run:
    runbook: str
    function_id: str
    dry: bool
    at: float | None


class _Tally:
    """The walk over a drill's events."""

    def __init__(self, start: EventLike) -> None:
        d = start.data
        self.drill = start.incident_id
        self.actor = start.actor
        self.scenario = str(d.get("scenario", ""))
        self.modes = _strs(d.get("modes"))
        raw_fns = d.get("functions")
        fns = raw_fns if isinstance(raw_fns, Mapping) else {}
        self.functions = {str(m): str(f) for m, f in fns.items()}
        raw_rbs = d.get("runbooks")
        rbs = raw_rbs if isinstance(raw_rbs, Mapping) else {}
        self.cures = {str(m): set(_strs(r)) for m, r in rbs.items()}
        seed = d.get("seed")
        self.seed = seed if isinstance(seed, int) and not isinstance(seed, bool) else None
        self.t0 = epoch(start.at)
        self.started_at = start.at
        self.injected: float | None = None
        self.detect: float | None = None
        self.dry: float | None = None
        self.cured: dict[str, float] = {}
        self.mitigated: float | None = None
        self.keys = 0
        self.keys_to_mitigate: int | None = None
        self.wrong: list[WrongMove] = []
        self.incident = False
        self.notes = 0
        self.runs: dict[str, _Run] = {}
        self.ended: str | None = None
        self.ended_at: float | None = None

    def after(self, t: float | None) -> float | None:
        """Seconds after injection (None before it or when unknown)."""
        if t is None or self.injected is None:
            return None
        return round(max(0.0, t - self.injected), 3)

    def modes_on(self, function_id: str) -> list[str]:
        return [m for m in self.modes if self.functions.get(m) == function_id]

    def see(self, e: EventLike) -> None:
        if self.ended is not None:
            return  # what happens after the drill ended is not scored
        k, d, t = e.kind, e.data, epoch(e.at)
        if k == EventKind.DRILL_INJECTED:
            self.injected = self.injected if self.injected is not None else t
        elif k == EventKind.DRILL_SCREEN:
            if (
                self.detect is None
                and self.injected is not None
                and e.function_id in set(self.functions.values())
            ):
                self.detect = t
        elif k == EventKind.DRILL_KEY:
            self.keys += 1
        elif k == EventKind.INCIDENT_OPENED and e.incident_id != self.drill:
            self.incident = True
        elif k == EventKind.NOTE and e.incident_id != self.drill:
            self.notes += 1
        elif k == EventKind.RUN_STARTED and e.run_id:
            self._started(e, t)
        elif k == EventKind.RUN_ENDED and e.run_id:
            self._ended(e, t)
        elif k == EventKind.DRILL_ENDED and self.ended is None:
            self.ended, self.ended_at = str(d.get("reason", "")) or None, t

    def _started(self, e: EventLike, t: float | None) -> None:
        rb, fid = str(e.data.get("runbook", "")), e.function_id or ""
        run = _Run(rb, fid, bool(e.data.get("dry_run")), t)
        self.runs[str(e.run_id)] = run
        curing = [m for m in self.modes_on(fid) if rb in self.cures.get(m, ())]
        if run.dry:
            if curing and self.dry is None and self.injected is not None:
                self.dry = t
            return
        if not self.modes_on(fid):
            why = f"{fid} was healthy" if self.injected is not None else "before any failure"
            self.wrong.append(WrongMove(self.after(t), rb, fid, why))
        elif not curing:
            shown = ", ".join(self.modes_on(fid))
            self.wrong.append(WrongMove(self.after(t), rb, fid, f"{rb} does not cure {shown}"))

    def _ended(self, e: EventLike, t: float | None) -> None:
        run = self.runs.get(str(e.run_id))
        if run is None or run.dry or e.data.get("status") != "succeeded":
            return
        for m in self.modes_on(run.function_id):
            if run.runbook in self.cures.get(m, ()) and t is not None:
                self.cured.setdefault(m, t)
        if self.mitigated is None and self.modes and all(m in self.cured for m in self.modes):
            self.mitigated = max(self.cured.values())
            self.keys_to_mitigate = self.keys

    def card(self) -> Scorecard:
        injected_after = (
            None if self.injected is None or self.t0 is None else round(self.injected - self.t0, 3)
        )
        duration = (
            None if self.ended_at is None or self.t0 is None else round(self.ended_at - self.t0, 3)
        )
        return Scorecard(
            drill=self.drill,
            actor=self.actor,
            scenario=self.scenario,
            modes=self.modes,
            functions=self.functions,
            seed=self.seed,
            started_at=self.started_at,
            injected_after_s=injected_after,
            detect_s=self.after(self.detect),
            dry_run_s=self.after(self.dry),
            mitigated_s=self.after(self.mitigated),
            keys=self.keys,
            keys_to_mitigate=self.keys_to_mitigate,
            wrong_moves=tuple(self.wrong),
            incident_opened=self.incident,
            notes=self.notes,
            ended=self.ended,
            duration_s=duration,
            runs=sum(1 for r in self.runs.values() if not r.dry),
        )


def score(events: Iterable[EventLike]) -> Scorecard | None:
    """The scorecard of the drill whose events these are, in chain order (None: no
    ``drill.started`` among them). Events before ``drill.started`` are ignored; a second
    ``drill.started`` ends the first drill's events."""
    tally: _Tally | None = None
    for e in events:
        if e.kind == EventKind.DRILL_STARTED:
            if tally is not None:
                break
            tally = _Tally(e)
            continue
        if tally is not None:
            tally.see(e)
    return None if tally is None else tally.card()


def cures_of(runbooks: Mapping[str, Sequence[str]], modes: Sequence[str]) -> dict[str, list[str]]:
    """The curing runbooks of each of ``modes`` (mode → runbook ids), for ``drill.started``."""
    return {m: list(runbooks.get(m, ())) for m in modes}
