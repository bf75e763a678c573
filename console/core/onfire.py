"""What is on fire: pages and tickets by team and by failure mode, the fastest burn, and
each finding's key number (why a row pages, in a few characters).

Pure: a function of one snapshot. The fleet's strip, its group headers and its page rows
read it; nothing here formats for a particular widget.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from console.core import fmt
from console.core.model import FailureMode, Finding, Severity
from console.core.snapshot import FunctionHealth


def _pct(x: float | None) -> str:
    if x is None or math.isnan(x):
        return fmt.NO_DATA
    v = x * 100.0
    return f"{v:.1f}%" if v >= 0.1 or v == 0 else f"{v:.2g}%"


def _factor(x: float | None) -> str:
    return fmt.NO_DATA if x is None or math.isnan(x) else f"{x:.1f}×"


def key_number(f: Finding) -> str:
    """The number that makes ``f`` fire, with its code: ``F8 9.1% 400/422``, ``F1 6.1%
    timeouts``, ``F9 bank-gateway 62.0%``. Serialization errors (F8) do not count against
    the SLO, so a row's SLO numbers can look healthy while it pages: this says why."""
    v, code = f.values, f.mode.value
    mode = f.mode
    if mode is FailureMode.F1:
        if "timeout_rate" in v:
            return f"{code} {_pct(v['timeout_rate'])} timeouts"
        return f"{code} p99 {_factor(v.get('p99_factor'))}"
    simple = {
        FailureMode.F2: ("throttle_rate", "429"),
        FailureMode.F3: ("retry_rate", "retries"),
        FailureMode.F4: ("cold_start_rate", "cold"),
        FailureMode.F6: ("auth_error_rate", "401/403"),
        FailureMode.F8: ("serialization_error_rate", "400/422"),
    }
    if mode in simple:
        key, what = simple[mode]
        return f"{code} {_pct(v.get(key))} {what}"
    if mode is FailureMode.F5:
        return f"{code} {_pct(v.get('failing_instances'))} inst"
    if mode is FailureMode.F7:
        if "memory" in v:
            return f"{code} mem {_pct(v['memory'])}"
        if "cpu" in v:
            return f"{code} cpu {_pct(v['cpu'])}"
        return f"{code} queue {v.get('queue_length', 0):,.0f}"
    if mode is FailureMode.F9:
        deps = [(r, k.split(".", 1)[1]) for k, r in v.items() if k.startswith("dependency_errors.")]
        if deps:
            rate, dep = max(deps, key=lambda p: (p[0], p[1]))
            return f"{code} {dep} {_pct(rate)}"
        return f"{code} {_pct(v.get('dependency_error_rate'))} dep"
    # F10
    if "cost_factor" in v:
        return f"{code} cost {_factor(v['cost_factor'])}"
    return f"{code} traffic {_factor(v.get('rps_factor'))}"


#: The ranks, looked up once: ``Severity.PAGE.rank`` is a property over an enum's value,
#: and ``Tally.add`` runs once per function (10,000+ per refresh).
_PAGE = Severity.PAGE.rank
_TICKET = Severity.TICKET.rank


def burn_1h(h: FunctionHealth) -> float | None:
    """The 1-hour burn rate, or None when not known."""
    rate = h.burn.rates.get("1h") if h.burn else None
    return None if rate is None or math.isnan(rate) else rate


@dataclass
class Tally:
    """Pages and tickets (counted per function, by its worst finding) and the fastest burn."""

    pages: int = 0
    tickets: int = 0
    #: (1h burn rate, function id) of the fastest-burning function, or None.
    fastest: tuple[float, str] | None = None

    def add(self, h: FunctionHealth) -> None:
        # A healthy function has no finding to rank (most of a 10,000-function fleet).
        if h.findings:
            rank = h.worst_severity_rank
            if rank == _PAGE:
                self.pages += 1
            elif rank == _TICKET:
                self.tickets += 1
        rate = burn_1h(h)
        if rate is not None and rate > 0 and (self.fastest is None or rate > self.fastest[0]):
            self.fastest = (rate, h.id)

    @property
    def burning(self) -> bool:
        return bool(self.pages or self.tickets)

    def severity_key(self) -> tuple[int, float, int, int]:
        """Sorts the most urgent first: any page, then the fastest burn (28× before 0.2×),
        then the number of pages and tickets."""
        rank = 0 if self.pages else 1 if self.tickets else 2
        return (rank, -(self.fastest[0] if self.fastest else 0.0), -self.pages, -self.tickets)


@dataclass
class OnFire:
    """The fleet's fire at one refresh."""

    total: Tally = field(default_factory=Tally)
    #: Team (owner; None: no owner) → its tally, most urgent team first.
    teams: dict[str | None, Tally] = field(default_factory=dict)
    #: Failure mode → (pages, tickets) of the findings in that mode, most urgent first.
    modes: dict[FailureMode, tuple[int, int]] = field(default_factory=dict)


def on_fire(functions: Iterable[FunctionHealth]) -> OnFire:
    """Tally ``functions``: per team (most urgent first) and per failure mode."""
    out = OnFire()
    teams: dict[str | None, Tally] = {}
    modes: dict[FailureMode, list[int]] = {}
    for h in functions:
        out.total.add(h)
        if h.findings:
            teams.setdefault(h.function.owner, Tally()).add(h)
        for f in h.findings:
            counts = modes.setdefault(f.mode, [0, 0])
            if f.severity is Severity.PAGE:
                counts[0] += 1
            elif f.severity is Severity.TICKET:
                counts[1] += 1
    ranked = sorted(teams.items(), key=lambda kv: (kv[1].severity_key(), _team_name(kv[0])))
    out.teams = dict(ranked)
    burning = [(m, (p, t)) for m, (p, t) in modes.items() if p or t]
    out.modes = dict(sorted(burning, key=lambda kv: (-kv[1][0], -kv[1][1], _mode_no(kv[0]))))
    return out


def _mode_no(mode: FailureMode) -> int:
    return int(mode.value[1:])


def team_order(functions: Sequence[FunctionHealth]) -> dict[str | None, int]:
    """Team → its place when grouping by owner: the burning teams in :func:`on_fire`'s
    order (most urgent first), then the healthy teams by name, no owner last."""
    burning = list(on_fire(functions).teams)
    rest = sorted({h.function.owner for h in functions} - set(burning), key=_team_name)
    return {team: i for i, team in enumerate(burning + rest)}


def _team_name(team: str | None) -> tuple[bool, str]:
    return (team is None, team or "")
