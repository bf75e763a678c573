"""The demo fleet: which functions exist, who owns them, and how each behaves when healthy.

Everything is derived from the seed with one ``random.Random(seed)``: the same seed gives
the same fleet in every process. The 48 named functions below carry the failure scenario;
``size`` beyond that adds generated services (healthy) so benchmarks can reach 10,000+.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from console.core.model import SLO  # not re-exported by console.plugin_api (yet)
from console.plugin_api import Function, Kind

#: service -> (owner team, [(operation, kind, tier, dependency ids)]).
BASE_SERVICES: dict[str, tuple[str, list[tuple[str, Kind, int, tuple[str, ...]]]]] = {
    "checkout": ("storefront", [
        ("POST /pay", Kind.HTTP, 1, ("cart:rpc GetCart", "payments:rpc Authorize", "profile:rpc GetUser")),
        ("GET /checkout", Kind.HTTP, 1, ("cart:rpc GetCart", "checkout:rpc Quote")),
        ("POST /checkout/confirm", Kind.HTTP, 1, ("orders:POST /orders", "payments:rpc Capture")),
        ("rpc Quote", Kind.RPC, 2, ("inventory:GET /stock/{sku}",)),
        ("worker checkout-expiry", Kind.WORKER, 3, ("cart:rpc GetCart",)),
    ]),
    "cart": ("storefront", [
        ("GET /cart", Kind.HTTP, 1, ("cart:rpc GetCart",)),
        ("POST /cart/items", Kind.HTTP, 1, ("cart:rpc GetCart", "inventory:GET /stock/{sku}")),
        ("DELETE /cart/items", Kind.HTTP, 2, ("cart:rpc GetCart",)),
        ("rpc GetCart", Kind.RPC, 1, ()),
        ("worker cart-cleanup", Kind.WORKER, 3, ()),
    ]),
    "payments": ("payments", [
        ("rpc Authorize", Kind.RPC, 1, ("bank-gateway",)),
        ("rpc Capture", Kind.RPC, 1, ()),
        ("rpc Refund", Kind.RPC, 2, ()),
        ("POST /webhooks/psp", Kind.HTTP, 2, ("payments:rpc Capture",)),
        ("worker settlement", Kind.WORKER, 2, ()),
        ("job reconcile-ledger", Kind.JOB, 3, ()),
    ]),
    "orders": ("fulfilment", [
        ("POST /orders", Kind.HTTP, 1, ("profile:rpc GetUser",)),
        ("GET /orders/{id}", Kind.HTTP, 2, ()),
        ("worker reserve-stock", Kind.WORKER, 1, ("inventory:rpc Reserve",)),
        ("worker order-events", Kind.WORKER, 2, ()),
        ("job export-orders", Kind.JOB, 3, ()),
    ]),
    "inventory": ("fulfilment", [
        ("rpc Reserve", Kind.RPC, 1, ()),
        ("rpc Release", Kind.RPC, 2, ()),
        ("GET /stock/{sku}", Kind.HTTP, 2, ()),
        ("worker restock-sync", Kind.WORKER, 3, ()),
        ("job stock-audit", Kind.JOB, 3, ()),
    ]),
    "search": ("discovery", [
        ("serverless query", Kind.SERVERLESS, 1, ()),
        ("GET /search", Kind.HTTP, 1, ("search:serverless query", "search:rpc Rank")),
        ("GET /suggest", Kind.HTTP, 2, ()),
        ("rpc Rank", Kind.RPC, 2, ()),
        ("worker index-update", Kind.WORKER, 2, ()),
        ("job reindex", Kind.JOB, 3, ()),
    ]),
    "notifications": ("growth", [
        ("worker email-send", Kind.WORKER, 2, ()),
        ("worker push-send", Kind.WORKER, 2, ()),
        ("serverless sms-send", Kind.SERVERLESS, 3, ()),
        ("POST /preferences", Kind.HTTP, 3, ()),
    ]),
    "profile": ("growth", [
        ("PUT /profile", Kind.HTTP, 1, ()),
        ("GET /profile", Kind.HTTP, 1, ("profile:rpc GetUser",)),
        ("rpc GetUser", Kind.RPC, 1, ()),
        ("POST /avatar", Kind.HTTP, 3, ("media:serverless resize-image",)),
    ]),
    "media": ("platform", [
        ("serverless resize-image", Kind.SERVERLESS, 2, ()),
        ("serverless transcode", Kind.SERVERLESS, 3, ()),
        ("GET /media/{id}", Kind.HTTP, 2, ()),
        ("worker cdn-purge", Kind.WORKER, 3, ()),
    ]),
    "reports": ("platform", [
        ("job nightly", Kind.JOB, 3, ()),
        ("job weekly-revenue", Kind.JOB, 3, ()),
        ("GET /reports/{id}", Kind.HTTP, 3, ()),
        ("worker report-render", Kind.WORKER, 3, ()),
    ]),
}  # fmt: skip

#: Dependencies outside the fleet (third parties): they have no Function of their own.
EXTERNAL_DEPENDENCIES = frozenset({"bank-gateway"})

#: Healthy baselines the scenario's story needs exactly (the rest are drawn from the seed).
OVERRIDES: dict[str, dict[str, float]] = {
    "checkout:POST /pay": {"rate": 42.0, "p50": 48.0, "p95": 160.0, "p99": 340.0},
    "orders:worker reserve-stock": {"rate": 50.0, "queue": 40.0},
    "inventory:rpc Reserve": {"rate": 56.0},
    # Scaled to zero by the config change the scenario blames for the cold starts.
    "search:serverless query": {"rate": 35.0, "p99": 420.0, "replicas": 0},
    "reports:job nightly": {"rate": 1.5, "memory": 0.62, "replicas": 1},
    "media:serverless resize-image": {"rate": 12.0, "cost": 0.085},
    "cart:rpc GetCart": {"instances": 8},
}

#: Latency objectives (p99 ms) beyond the tier-1 HTTP default.
LATENCY_SLO: dict[str, float] = {"search:serverless query": 2500.0}

_PEOPLE = ("maya.chen", "tomas.novak", "priya.nair", "jon.berg", "ana.souza", "li.wei",
           "sam.okafor", "eva.lindqvist", "raj.patel", "kim.tanaka", "noah.fischer",
           "ines.garcia", "omar.haddad", "zoe.martin", "yuki.sato", "lena.kowalski")  # fmt: skip
_REGIONS = ("eu-west-1", "eu-central-1", "us-east-1")
_EXTRA_TEAMS = ("identity", "data", "mobile", "logistics", "trust", "finance", "ml", "edge")
_EXTRA_NOUNS = ("ledger", "billing", "shipping", "pricing", "catalog", "reviews", "loyalty",
                "fraud", "tax", "warehouse", "returns", "sessions", "gateway", "coupons",
                "wishlist", "ratings", "geo", "ads", "analytics", "messaging", "files", "tenants",
                "invoices", "subscriptions", "quotes", "carriers", "vendors", "audit")  # fmt: skip

#: kind -> ranges of (rate rps, p50 ms); spreads p95/p99 derive from p50.
_KIND_RANGES: dict[Kind, tuple[tuple[float, float], tuple[float, float]]] = {
    Kind.HTTP: ((5.0, 300.0), (15.0, 80.0)),
    Kind.RPC: ((10.0, 400.0), (2.0, 15.0)),
    Kind.SERVERLESS: ((0.5, 80.0), (40.0, 200.0)),
    Kind.WORKER: ((2.0, 120.0), (20.0, 400.0)),
    Kind.JOB: ((0.2, 5.0), (200.0, 3000.0)),
}
_OBJECTIVE = {1: 0.999, 2: 0.995, 3: 0.99}


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


def _profile(rng: random.Random, index: int, kind: Kind, tier: int, fid: str) -> Profile:
    (rlo, rhi), (plo, phi) = _KIND_RANGES[kind]
    r = rng.random
    rate = round(rlo * (rhi / rlo) ** r(), 2)
    p50 = round(plo + (phi - plo) * r(), 1)
    p95 = round(p50 * (2.5 + 1.5 * r()), 1)
    p99 = round(p95 * (1.6 + 0.9 * r()), 1)
    budget = 1.0 - _OBJECTIVE[tier]
    err = budget * (0.08 + 0.22 * r())  # healthy: well inside the error budget
    serverless = kind is Kind.SERVERLESS
    p = Profile(
        index=index,
        kind=kind,
        rate=rate,
        p50=p50,
        p95=p95,
        p99=p99,
        err5xx=err * 0.75,
        timeout=err * 0.25,
        auth=0.0005 + 0.0025 * r(),
        serial=0.0005 + 0.003 * r(),
        throttle=0.0001 + 0.0007 * r() if kind in (Kind.HTTP, Kind.RPC, Kind.SERVERLESS) else None,
        retry=None if kind is Kind.HTTP else 0.002 + 0.02 * r(),
        cold=0.002 + 0.01 * r() if serverless else None,
        cpu=None if serverless else 0.2 + 0.4 * r(),
        memory=0.3 + 0.4 * r(),
        queue=round(5 + 75 * r()) if kind is Kind.WORKER else None,
        cost=round(0.01 + 0.19 * r(), 4) if serverless else None,
        replicas=(1 + int(3 * r())) if serverless else (2 + int(10 * r())),
        instances=0,
    )
    p.instances = max(p.replicas, 1)
    for key, value in OVERRIDES.get(fid, {}).items():
        if key in ("replicas", "instances"):
            setattr(p, key, int(value))
        else:
            setattr(p, key, value)
    if p.p99 < p.p95:  # an override may move p99 below the drawn p95
        p.p95 = round(p.p99 * 0.5, 1)
    return p


class _Builder:
    """Accumulates functions, profiles and per-team SLO/label objects shared between them."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fleet = Fleet(seed, (), {}, {})
        self.functions: list[Function] = []
        self.oncall: dict[str, str] = {}
        self.slos: dict[tuple[float, float | None], SLO] = {}

    def team_oncall(self, team: str) -> str:
        if team not in self.oncall:
            self.oncall[team] = self.rng.choice(_PEOPLE)
        return self.oncall[team]

    def add(
        self, service: str, team: str, op: str, kind: Kind, tier: int, deps: tuple[str, ...]
    ) -> None:
        fid = Function.make_id(service, op)
        profile = _profile(self.rng, len(self.functions), kind, tier, fid)
        latency = LATENCY_SLO.get(fid)
        if latency is None and tier == 1 and kind is Kind.HTTP:
            latency = float(max(500, -(-int(profile.p99 * 2.4) // 100) * 100))
        key = (_OBJECTIVE[tier], latency)
        slo = self.slos.get(key) or self.slos.setdefault(key, SLO(key[0], "30d", latency))
        region = self.rng.randrange(len(_REGIONS))
        labels = {"env": "prod", "region": _REGIONS[region], "team": team, "kind": kind.value}
        fn = Function(
            id=fid,
            service=service,
            operation=op,
            kind=kind,
            owner=team,
            oncall=self.team_oncall(team),
            tier=tier,
            slo=slo,
            dependencies=deps,
            labels=MappingProxyType(labels),
            source="demo",
        )
        self.functions.append(fn)
        self.fleet.by_id[fid] = fn
        self.fleet.profiles[fid] = profile
        self.fleet.services.setdefault(service, []).append(fid)
        self.fleet.owners[service] = team


_GEN_OPS: dict[Kind, tuple[str, ...]] = {
    Kind.HTTP: ("GET /{n}", "POST /{n}", "GET /{n}/{{id}}", "PUT /{n}/{{id}}", "DELETE /{n}/{{id}}"),
    Kind.RPC: ("rpc Get{N}", "rpc List{N}", "rpc Update{N}"),
    Kind.WORKER: ("worker {n}-sync", "worker {n}-events"),
    Kind.SERVERLESS: ("serverless {n}-render", "serverless {n}-webhook"),
    Kind.JOB: ("job {n}-export", "job {n}-compaction"),
}  # fmt: skip
_GEN_KINDS = (
    Kind.HTTP,
    Kind.HTTP,
    Kind.HTTP,
    Kind.RPC,
    Kind.RPC,
    Kind.WORKER,
    Kind.SERVERLESS,
    Kind.JOB,
)


def _generated_service(b: _Builder, number: int, budget: int) -> None:
    rng = b.rng
    noun = _EXTRA_NOUNS[number % len(_EXTRA_NOUNS)]
    lap = number // len(_EXTRA_NOUNS)
    service = noun if lap == 0 else f"{noun}-{lap + 1}"
    teams = _EXTRA_TEAMS
    team = teams[number % len(teams)] if number < 3 * len(teams) else f"team-{number // 3}"
    n = min(budget, 4 + rng.randrange(5))
    used: set[str] = set()
    own: list[str] = []
    for _ in range(n * 3):  # bounded: a few draws per slot are enough to find unused names
        if len(own) == n:
            break
        kind = _GEN_KINDS[rng.randrange(len(_GEN_KINDS))]
        templates = _GEN_OPS[kind]
        op = templates[rng.randrange(len(templates))].format(n=noun, N=noun.capitalize())
        if op in used:
            continue
        used.add(op)
        deps = (own[rng.randrange(len(own))],) if own and rng.random() < 0.5 else ()
        tier = 1 if rng.random() < 0.2 else (2 if rng.random() < 0.5 else 3)
        b.add(service, team, op, kind, tier, deps)
        own.append(Function.make_id(service, op))


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
