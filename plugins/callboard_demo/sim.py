"""The simulation: signals from the fleet, the scenario, the applied actions and a tick.

Healthy functions wobble a little around their profile, deterministically: the noise is a
hash of (seed, function, tick), never the global RNG or the wall clock. A failure moves its
function's numbers towards the failure's values while it is active; a cure ends it at the
moment its action ran, so the *current* numbers recover at once, while the burn-rate
windows (``error_ratio``) still remember the failing minutes, as they would in production.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from callboard_demo.controls import Controls, History, overlap
from callboard_demo.drill import DrillScenario
from callboard_demo.fleet import Fleet, Profile
from callboard_demo.scenario import FAILURES, Failure
from console.plugin_api import BadResponse, Kind, Signals

#: The burn windows reported in ``error_ratio`` and ``requests``, with their seconds.
WINDOWS: dict[str, float] = {
    "5m": 300.0, "30m": 1800.0, "1h": 3600.0, "6h": 21600.0, "3d": 259200.0, "30d": 2592000.0,
}  # fmt: skip
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_MASK = (1 << 64) - 1
#: A healthy third-party dependency still fails this fraction of calls.
_EXTERNAL_OK = 0.002


def window_seconds(window: str) -> float:
    """``"5m"`` -> 300.0. Raises BadResponse for anything else."""
    m = re.fullmatch(r"(\d+)([smhdw])", window.strip()) if isinstance(window, str) else None
    if m is None or int(m.group(1)) == 0:
        raise BadResponse(f"demo: unknown window {window!r} (expected e.g. 5m, 1h, 3d)")
    return int(m.group(1)) * _UNITS[m.group(2)]


def mix64(x: int) -> int:
    """SplitMix64's finaliser: a fast, well-spread 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def tick_salt(seed: int, tick: int) -> int:
    """The part of every noise key shared by all functions at one tick (computed once)."""
    return ((seed * 0x2545F4914F6CDD1D) ^ mix64(tick + 1)) & _MASK


def noise_key(seed: int, index: int, tick: int, salt: int | None = None) -> int:
    """The hash behind one function's wobble at one tick (or one series timestamp)."""
    salt = tick_salt(seed, tick) if salt is None else salt
    return mix64(salt ^ (index * 0x9E3779B97F4A7C15))


@dataclass(frozen=True, slots=True)
class Episode:
    """A failure replayed against the applied actions: when it was active."""

    failure: Failure
    intervals: tuple[tuple[float, float], ...]
    active: bool

    def _find(self, t: float) -> tuple[int, float] | None:
        """(interval index, seconds active) at ``t``, or None when the failure is not active."""
        for i, (s, e) in enumerate(self.intervals):
            last = self.active and i == len(self.intervals) - 1
            if s <= t and (t < e or last):
                return i, t - s
        return None

    def active_for(self, t: float) -> float | None:
        """Seconds the failure has been active at ``t``, or None when it is not."""
        found = self._find(t)
        return None if found is None else found[1]

    def strength(self, t: float, span_s: float) -> float | None:
        """How far (0..1) the failure shows in a window of ``span_s`` ending at ``t``.

        The scenario's onset fills the window gradually; a failure that an action brings
        back (a circuit closed again) shows at once, as a cure does.
        """
        found = self._find(t)
        if found is None:
            return None
        index, age = found
        return min(1.0, age / span_s) if index == 0 and span_s > 0 else 1.0


class Simulator:
    """Computes Signals for a fleet. Pure given (fleet, history, epoch, now, tick)."""

    def __init__(self, fleet: Fleet, drill: DrillScenario | None = None) -> None:
        self.fleet = fleet
        #: A drill's failures and their start (None: the default scenario).
        self.drill = drill
        chosen = FAILURES if drill is None else drill.failures()
        self.failures = [f for f in chosen if f.function_id in fleet.by_id]
        self.by_function: dict[str, list[Failure]] = {}
        for f in self.failures:
            self.by_function.setdefault(f.function_id, []).append(f)

    def episodes(self, history: History, epoch: float, now: float) -> dict[str, Episode]:
        """Failure key -> its episode up to ``now``."""
        out = {}
        drill = self.drill
        for f in self.failures:
            start = epoch - f.age_s if drill is None else drill.start(f, epoch)
            if start > now:  # a drill's failure not begun yet
                out[f.key] = Episode(f, (), False)
                continue
            intervals, active = history.intervals(f.cured, start, now)
            out[f.key] = Episode(f, intervals, active)
        return out

    # -- one function at one moment -------------------------------------------------------

    def values(
        self,
        fid: str,
        key: int,
        t: float,
        span_s: float,
        controls: Controls,
        episodes: dict[str, Episode],
    ) -> dict[str, Any]:
        """The numbers of ``fid`` at ``t`` over a window of ``span_s``; ``key`` (a 64-bit
        hash from ``noise_key``) drives the wobble."""
        p = self.fleet.profiles[fid]
        h = key
        w1 = (h & 0xFFFF) / 32768.0 - 1.0
        w2 = ((h >> 16) & 0xFFFF) / 32768.0 - 1.0
        w3 = ((h >> 32) & 0xFFFF) / 32768.0 - 1.0
        w4 = ((h >> 48) & 0xFFFF) / 32768.0 - 1.0
        lat, err = 1.0 + 0.05 * w2, 1.0 + 0.2 * w3
        v: dict[str, Any] = {
            "rate": p.rate * (1.0 + 0.04 * w1),
            "p50": p.p50 * lat, "p95": p.p95 * lat, "p99": p.p99 * lat,
            "err5xx": p.err5xx * err, "timeout": p.timeout * err,
            "auth": p.auth * err, "serial": p.serial * err,
            "throttle": None if p.throttle is None else p.throttle * err,
            "retry": None if p.retry is None else p.retry * err,
            "cold": None if p.cold is None else p.cold * err,
            "cpu": None if p.cpu is None else p.cpu + 0.02 * w4,
            "memory": None if p.memory is None else p.memory + 0.003 * w4,
            "queue": None if p.queue is None else float(round(p.queue * (1.0 + 0.15 * w4))),
            "cost": None if p.cost is None else p.cost * (1.0 + 0.03 * w1),
            "failing": 0.0 if p.kind in _INSTANCED else None,
            "err_wobble": w3,
        }  # fmt: skip
        for f in self.by_function.get(fid, ()):
            strength = episodes[f.key].strength(t, span_s)
            if strength is not None:
                _overlay(v, f, strength)
            elif _started(episodes[f.key], t):
                self._cured_effect(f, v, controls)
        if controls.throttles or controls.replicas or controls.min_instances:
            self._controls_effect(fid, p, v, controls)
        return v

    @staticmethod
    def _controls_effect(fid: str, p: Profile, v: dict[str, Any], c: Controls) -> None:
        """What any action does to any function: harmless, and what production would show."""
        rps = c.throttles.get(fid)
        if rps is not None:
            v["rate"] = min(v["rate"], rps)
        replicas = c.replicas.get(fid)
        if replicas is not None and replicas > p.replicas and p.replicas > 0:
            share = p.replicas / replicas
            v["cpu"] = None if v["cpu"] is None else max(0.05, v["cpu"] * share)
            if p.kind is Kind.JOB and v["memory"] is not None:
                v["memory"] = max(0.1, v["memory"] * (0.5 + 0.5 * share))
        warm = c.min_instances.get(fid)
        if warm is not None and warm > p.replicas and v["cold"] is not None:
            v["cold"] = v["cold"] * 0.6

    @staticmethod
    def _cured_effect(f: Failure, v: dict[str, Any], c: Controls) -> None:
        """The after-taste of a cure: a fallback route is slower; a closed loop backs up."""
        if f.function_id == "payments:rpc Authorize":
            v["p99"] = v["p99"] * 1.25
        if c.circuit_open(f.function_id, "inventory:rpc Reserve") and v["queue"] is not None:
            v["queue"] = v["queue"] * 3.0

    # -- the batch --------------------------------------------------------------------

    def signals(
        self, ids: Iterable[str], window: str, history: History, epoch: float, now: float, tick: int
    ) -> dict[str, Signals]:
        """Signals over ``window`` for every known id in ``ids`` at tick ``tick``."""
        span = window_seconds(window)
        episodes = self.episodes(history, epoch, now)
        controls = history.now
        profiles, seed = self.fleet.profiles, self.fleet.seed
        salt = tick_salt(seed, tick)
        vals: dict[str, dict[str, Any]] = {}

        def get(fid: str) -> dict[str, Any]:
            v = vals.get(fid)
            if v is None:
                key = noise_key(seed, profiles[fid].index, tick, salt)
                v = vals[fid] = self.values(fid, key, now, span, controls, episodes)
            return v

        wanted = [fid for fid in dict.fromkeys(ids) if fid in profiles]
        values = self.values
        for fid in wanted:  # get(fid) for each, inline: this loop runs 10,000+ times
            if fid not in vals:
                key = noise_key(seed, profiles[fid].index, tick, salt)
                vals[fid] = values(fid, key, now, span, controls, episodes)
        out: dict[str, Signals] = {}
        by_id = self.fleet.by_id
        failures_of = self.by_function.get
        ratios = self._ratios
        for fid in wanted:
            v = vals[fid]
            deps: dict[str, float] = {}
            for dep in by_id[fid].dependencies:
                if controls.circuit_open(fid, dep):
                    continue  # no calls, so no measurement
                if dep in profiles:
                    d = get(dep)
                    deps[dep] = d["err5xx"] + d["timeout"]
                else:
                    deps[dep] = _EXTERNAL_OK * (1.0 + 0.2 * v["err_wobble"])
            failures = failures_of(fid, ())
            for f in failures:
                strength = episodes[f.key].strength(now, span)
                for dep, rate in f.dependency_errors.items():
                    if strength is not None and dep in deps:
                        target = rate * (1.0 + 0.03 * v["err_wobble"])
                        deps[dep] += (target - deps[dep]) * strength
            out[fid] = _signals(v, deps, ratios(profiles[fid], v, failures, episodes, now))
        return out

    @staticmethod
    def _ratios(
        p: Profile,
        v: dict[str, Any],
        failures: Iterable[Failure],
        episodes: dict[str, Episode],
        now: float,
    ) -> tuple[dict[str, float], dict[str, float]]:
        """error_ratio and requests per burn window of the function ``p`` profiles, whose
        ``failures`` are listed: recent failures weigh on short windows."""
        base = p.err5xx + p.timeout
        k = 0.2 * v["err_wobble"] * base
        # Literal dicts: this runs once per function per refresh (10,000+ times).
        ratio = {"5m": base + k, "30m": base + 0.6 * k, "1h": base + 0.4 * k,
                 "6h": base + 0.2 * k, "3d": base + 0.1 * k, "30d": base + 0.05 * k}  # fmt: skip
        r = p.rate
        requests = {"5m": r * 300.0, "30m": r * 1800.0, "1h": r * 3600.0, "6h": r * 21600.0,
                    "3d": r * 259200.0, "30d": r * 2592000.0}  # fmt: skip
        for f in failures:
            ep = episodes[f.key]
            bad = f.set_to.get("err5xx", p.err5xx) + f.set_to.get("timeout", p.timeout)
            surge = f.times.get("rate", 1.0)
            for w, secs in WINDOWS.items():
                share = overlap(ep.intervals, now, secs)
                ratio[w] += (bad - base) * share
                requests[w] *= 1.0 + (surge - 1.0) * share
        return ratio, requests

    def baselines(self, ids: Iterable[str]) -> dict[str, Signals]:
        """Healthy behaviour (no wobble, no failures) for every known id."""
        out = {}
        for fid in ids:
            p = self.fleet.profiles.get(fid)
            if p is None:
                continue
            out[fid] = Signals(
                rate_rps=p.rate, success_rate=1.0 - p.err5xx - p.timeout,
                p50_ms=p.p50, p95_ms=p.p95, p99_ms=p.p99, error_5xx_rate=p.err5xx,
                timeout_rate=p.timeout, throttle_rate=p.throttle, auth_error_rate=p.auth,
                serialization_error_rate=p.serial, retry_rate=p.retry, cold_start_rate=p.cold,
                cpu=p.cpu, memory=p.memory, queue_length=p.queue, cost_per_1k=p.cost,
                failing_instances=0.0 if p.kind in _INSTANCED else None,
            )  # fmt: skip
        return out


_INSTANCED = frozenset({Kind.HTTP, Kind.RPC, Kind.WORKER})


def _started(ep: Episode, t: float) -> bool:
    return bool(ep.intervals) and ep.intervals[0][0] <= t


#: How much a failing number wobbles from tick to tick (saturation and shard counts less).
_FAIL_WOBBLE = {"memory": 0.002, "cpu": 0.01, "failing": 0.0}


def _overlay(v: dict[str, Any], f: Failure, strength: float) -> None:
    """Move ``v`` towards the failure's numbers by ``strength`` (0..1)."""
    w = v["err_wobble"]
    for k, target in f.set_to.items():
        base = v.get(k)
        if base is not None:
            target *= 1.0 + _FAIL_WOBBLE.get(k, 0.03) * w
            v[k] = base + (target - base) * strength
    for k, factor in f.times.items():
        base = v.get(k)
        if base is not None:
            v[k] = base * (1.0 + (factor - 1.0) * strength)


def _signals(
    v: dict[str, Any], deps: dict[str, float], ratios: tuple[dict[str, float], dict[str, float]]
) -> Signals:
    ratio, requests = ratios
    failed = v["err5xx"] + v["timeout"]
    cpu, mem = v["cpu"], v["memory"]
    return Signals(
        rate_rps=v["rate"], success_rate=1.0 - failed,
        p50_ms=v["p50"], p95_ms=v["p95"], p99_ms=v["p99"],
        error_5xx_rate=v["err5xx"], timeout_rate=v["timeout"], throttle_rate=v["throttle"],
        auth_error_rate=v["auth"], serialization_error_rate=v["serial"],
        retry_rate=v["retry"], cold_start_rate=v["cold"],
        cpu=cpu if cpu is None or cpu < 1.0 else 1.0, memory=mem if mem is None or mem < 1.0 else 1.0,
        queue_length=v["queue"], cost_per_1k=v["cost"],
        availability=1.0 - ratio["30d"],
        error_ratio=ratio, requests=requests, dependency_errors=deps,
        failing_instances=v["failing"],
    )  # fmt: skip
