"""The demo fleet: which functions exist, who owns them, and how each behaves when healthy.

Everything is derived from the seed with one ``random.Random(seed)``: the same seed gives
the same fleet in every process. The 48 named functions below carry the failure scenario;
``size`` beyond that adds generated services (healthy) so benchmarks can reach 10,000+.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from callboard_demo.catalog import (
    BASE_SERVICES,
    EXTERNAL_DEPENDENCIES,
    EXTRA_NOUNS,
    EXTRA_TEAMS,
    GENERATED_KINDS,
    GENERATED_OPS,
    KIND_RANGES,
    LATENCY_SLO,
    OBJECTIVE,
    OVERRIDES,
    PEOPLE,
    REGIONS,
)
from callboard_demo.scenario import Change, changes_for
from console.core.model import SLO  # not re-exported by console.plugin_api (yet)
from console.plugin_api import Function, Kind


@dataclass(slots=True)
class Profile:
    """How one function behaves when healthy: the baseline the simulation moves around.

    ``None`` marks a measurement this kind of function does not have (no queue for an
    HTTP endpoint, no cold starts outside serverless, no cost outside serverless, ...).
    """

    index: int
    kind: Kind
    rate: float
    p50: float
    p95: float
    p99: float
    err5xx: float
    timeout: float
    auth: float
    serial: float
    throttle: float | None
    retry: float | None
    cold: float | None
    cpu: float | None
    memory: float | None
    queue: float | None
    cost: float | None
    #: Replicas now (``min_instances`` for serverless).
    replicas: int
    instances: int


@dataclass(slots=True)
class Fleet:
    """A generated fleet: functions in a stable order, and their healthy profiles."""

    seed: int
    functions: tuple[Function, ...]
    by_id: dict[str, Function]
    profiles: dict[str, Profile]
    services: dict[str, list[str]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    #: Each service's changes, made once: ``deploys()`` asks for every service on every
    #: refresh, on the event loop (10 ms per refresh at 10,000 functions otherwise).
    _changes: dict[str, list[Change]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def changes(self, service: str) -> list[Change]:
        """``scenario.changes_for`` the service, newest first (a shared list: read only)."""
        got = self._changes.get(service)
        if got is None:
            got = changes_for(self.seed, service, self.owners.get(service, service))
            self._changes[service] = got
        return got


#: Kind tests, as sets: ``Kind.HTTP`` is an enum lookup (~70 ns), ``in`` a tuple of them
#: ~250 ns, and ``_profile`` runs once per function (10,000+ for a big fleet).
_THROTTLED = frozenset({Kind.HTTP, Kind.RPC, Kind.SERVERLESS})
_SERVERLESS, _HTTP, _WORKER = Kind.SERVERLESS, Kind.HTTP, Kind.WORKER


def _profile(rng: random.Random, index: int, kind: Kind, tier: int, fid: str) -> Profile:
    (rlo, rhi), (plo, phi) = KIND_RANGES[kind]
    r = rng.random
    rate = rlo * (rhi / rlo) ** r()
    p50 = plo + (phi - plo) * r()
    p95 = p50 * (2.5 + 1.5 * r())
    p99 = p95 * (1.6 + 0.9 * r())
    budget = 1.0 - OBJECTIVE[tier]
    err = budget * (0.08 + 0.22 * r())  # healthy: well inside the error budget
    serverless = kind is _SERVERLESS
    # The draws in the order the fields are listed (each line's r() only when it applies):
    # the same seed must give the same numbers.
    auth = 0.0005 + 0.0025 * r()
    serial = 0.0005 + 0.003 * r()
    throttle = 0.0001 + 0.0007 * r() if kind in _THROTTLED else None
    retry = None if kind is _HTTP else 0.002 + 0.02 * r()
    cold = 0.002 + 0.01 * r() if serverless else None
    cpu = None if serverless else 0.15 + 0.4 * r()
    memory = 0.3 + 0.35 * r()
    queue = float(int(5 + 75 * r())) if kind is _WORKER else None
    cost = 0.01 + 0.19 * r() if serverless else None
    replicas = (1 + int(3 * r())) if serverless else (2 + int(10 * r()))
    p = Profile(index, kind, rate, p50, p95, p99, err * 0.75, err * 0.25, auth, serial,
                throttle, retry, cold, cpu, memory, queue, cost, replicas,
                replicas if replicas > 1 else 1)  # fmt: skip
    overrides = OVERRIDES.get(fid)
    if overrides:  # a few named functions; the 10,000 generated ones have none
        for key, value in overrides.items():
            if key in ("replicas", "instances"):
                setattr(p, key, int(value))
            else:
                setattr(p, key, value)
        if p.p99 < p.p95:  # an override may move p99 below the drawn p95
            p.p95 = p.p99 * 0.5
    return p


class _Builder:
    """Accumulates functions, profiles and per-team SLO/label objects shared between them."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fleet = Fleet(seed, (), {}, {})
        self.functions: list[Function] = []
        self.oncall: dict[str, str] = {}
        self.slos: dict[tuple[float, float | None], SLO] = {}
        self.labels: dict[tuple[str, str, Kind], MappingProxyType[str, str]] = {}

    def team_oncall(self, team: str) -> str:
        if team not in self.oncall:
            self.oncall[team] = self.rng.choice(PEOPLE)
        return self.oncall[team]

    def add(
        self, service: str, team: str, op: str, kind: Kind, tier: int, deps: tuple[str, ...]
    ) -> str:
        """Add one function (once per function of a 10,000-function fleet: kept lean);
        its id back."""
        fid = f"{service}:{op}" if op else service  # Function.make_id
        rng = self.rng
        profile = _profile(rng, len(self.functions), kind, tier, fid)
        latency = LATENCY_SLO.get(fid)
        if latency is None and tier == 1 and kind is _HTTP:
            latency = float(max(500, -(-int(profile.p99 * 2.4) // 100) * 100))
        key = (OBJECTIVE[tier], latency)
        slo = self.slos.get(key)
        if slo is None:
            slo = self.slos[key] = SLO(key[0], "30d", latency)
        region = REGIONS[int(rng.random() * len(REGIONS))]
        labels = self.labels.get((region, team, kind))
        if labels is None:  # shared, read-only: a service's functions have few distinct sets
            labels = MappingProxyType(
                {"env": "prod", "region": region, "team": team, "kind": kind.value}
            )
            self.labels[(region, team, kind)] = labels
        fn = Function(
            id=fid,
            service=service,
            operation=op,
            kind=kind,
            owner=team,
            oncall=self.oncall.get(team) or self.team_oncall(team),
            tier=tier,
            slo=slo,
            dependencies=deps,
            labels=labels,
            source="demo",
        )
        self.functions.append(fn)
        fleet = self.fleet
        fleet.by_id[fid] = fn
        fleet.profiles[fid] = profile
        ids = fleet.services.get(service)
        if ids is None:
            fleet.services[service] = [fid]
        else:
            ids.append(fid)
        fleet.owners[service] = team
        return fid


def _generated_service(b: _Builder, number: int, budget: int) -> None:
    rng = b.rng
    r = rng.random
    noun = EXTRA_NOUNS[number % len(EXTRA_NOUNS)]
    names = {"n": noun, "N": noun.capitalize()}
    lap = number // len(EXTRA_NOUNS)
    service = noun if lap == 0 else f"{noun}-{lap + 1}"
    teams = EXTRA_TEAMS
    team = teams[number % len(teams)] if number < 3 * len(teams) else f"team-{number // 3}"
    n = min(budget, 4 + int(r() * 5))
    used: set[str] = set()
    own: list[str] = []
    for _ in range(n * 3):  # bounded: a few draws per slot are enough to find unused names
        if len(own) == n:
            break
        kind = GENERATED_KINDS[int(r() * len(GENERATED_KINDS))]
        templates = GENERATED_OPS[kind]
        op = templates[int(r() * len(templates))].format_map(names)
        if op in used:
            continue
        used.add(op)
        deps = (own[int(r() * len(own))],) if own and r() < 0.5 else ()
        tier = 1 if r() < 0.2 else (2 if r() < 0.5 else 3)
        own.append(b.add(service, team, op, kind, tier, deps))


def build_fleet(seed: int, size: int | None = None, keep: frozenset[str] = frozenset()) -> Fleet:
    """The fleet for ``seed``: the 48 named functions, or ``size`` functions.

    With ``size`` below 48 the ids in ``keep`` (the scenario's) are kept first; above it,
    generated services (more teams, all healthy) fill the rest.
    """
    b = _Builder(seed)
    for service, (team, ops) in BASE_SERVICES.items():
        for op, kind, tier, deps in ops:
            b.add(service, team, op, kind, tier, deps)
    target = len(b.functions) if size is None else size
    number = 0
    while len(b.functions) < target:
        _generated_service(b, number, target - len(b.functions))
        number += 1
    functions = b.functions
    if target < len(functions):
        functions = _trim(b.fleet, functions, target, keep)
    b.fleet.functions = tuple(functions)
    return b.fleet


def _trim(
    fleet: Fleet, functions: list[Function], target: int, first: frozenset[str]
) -> list[Function]:
    """Keep ``target`` functions, those in ``first`` first; drop dependencies that went away."""
    keep_ids = [f.id for f in functions if f.id in first]
    keep_ids += [f.id for f in functions if f.id not in first]
    keep = set(keep_ids[:target])
    kept: list[Function] = []
    for fn in functions:
        if fn.id not in keep:
            del fleet.by_id[fn.id]
            del fleet.profiles[fn.id]
            continue
        deps = tuple(d for d in fn.dependencies if d in keep or d in EXTERNAL_DEPENDENCIES)
        if deps != fn.dependencies:
            fn = replace(fn, dependencies=deps)
            fleet.by_id[fn.id] = fn
        kept.append(fn)
    fleet.services = {s: [i for i in ids if i in keep] for s, ids in fleet.services.items()}
    fleet.services = {s: ids for s, ids in fleet.services.items() if ids}
    return kept
