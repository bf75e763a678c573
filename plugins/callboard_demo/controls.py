"""Applied actions: how they persist in the plugin state, and what they add up to.

The state holds a JSON list of applied actions under ``"applied"`` and the simulation's
epoch (the moment "now" was when the first action ran) under ``"epoch"``, so a later
process replays the same history. ``Controls`` is the fold of that list: what is rolled
back, throttled, circuit-broken, scaled or restarted.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from console.plugin_api import PluginState

APPLIED_KEY = "applied"
EPOCH_KEY = "epoch"


@dataclass(frozen=True, slots=True)
class Applied:
    """One executed action, as stored (JSON-friendly)."""

    action: str
    function_id: str
    params: Mapping[str, Any]
    at: float
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "function_id": self.function_id,
            "params": dict(self.params),
            "at": self.at,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: Any) -> Applied | None:
        """The record, or None when ``data`` is not one (a damaged state is skipped)."""
        if not isinstance(data, Mapping):
            return None
        action, fid, at = data.get("action"), data.get("function_id"), data.get("at")
        params = data.get("params", {})
        if not (isinstance(action, str) and isinstance(fid, str)):
            return None
        if (
            not isinstance(at, int | float)
            or isinstance(at, bool)
            or not isinstance(params, Mapping)
        ):
            return None
        return cls(action, fid, dict(params), float(at), str(data.get("reason", "")))


def load_applied(state: PluginState) -> list[Applied]:
    """Every applied action in the state, oldest first."""
    raw = state.get(APPLIED_KEY, [])
    items = raw if isinstance(raw, list) else []
    found = [a for a in (Applied.from_json(x) for x in items) if a is not None]
    return sorted(found, key=lambda a: a.at)


def save_applied(state: PluginState, applied: Iterable[Applied]) -> None:
    state.set(APPLIED_KEY, [a.to_json() for a in applied])


@dataclass(slots=True)
class Silence:
    """Alerts of ``function_id`` (all, or the one named ``alert``) are silenced until ``until``."""

    function_id: str
    alert: str | None
    until: float


@dataclass(slots=True)
class Controls:
    """What the applied actions add up to at one moment."""

    #: service -> versions that were rolled back.
    reverted: dict[str, set[str]] = field(default_factory=dict)
    #: function id -> the rate limit in requests per second.
    throttles: dict[str, float] = field(default_factory=dict)
    #: function id -> the dependencies whose circuit is open.
    circuits: dict[str, set[str]] = field(default_factory=dict)
    min_instances: dict[str, int] = field(default_factory=dict)
    replicas: dict[str, int] = field(default_factory=dict)
    restarted: set[str] = field(default_factory=set)
    silences: list[Silence] = field(default_factory=list)

    def apply(self, a: Applied) -> None:
        """Fold one action in (params were validated by ``plan``)."""
        p, fid = a.params, a.function_id
        if a.action == "rollback":
            self.reverted.setdefault(str(p["service"]), set()).add(str(p["from_version"]))
        elif a.action == "throttle":
            self.throttles[fid] = float(p["rps"])
        elif a.action == "circuit_open":
            self.circuits.setdefault(fid, set()).update(p["dependencies"])
        elif a.action == "circuit_close":
            self.circuits.get(fid, set()).difference_update(p["dependencies"])
        elif a.action == "scale":
            if "min_instances" in p:
                self.min_instances[fid] = int(p["min_instances"])
            if "replicas" in p:
                self.replicas[fid] = int(p["replicas"])
        elif a.action == "restart":
            self.restarted.add(fid)
        elif a.action == "silence":
            until = a.at + float(p.get("duration_s", 3600.0))
            self.silences.append(Silence(fid, p.get("alert"), until))

    def is_reverted(self, service: str, version: str) -> bool:
        return version in self.reverted.get(service, ())

    def throttled_to(self, fid: str) -> float | None:
        return self.throttles.get(fid)

    def circuit_open(self, fid: str, dependency: str) -> bool:
        return dependency in self.circuits.get(fid, ())

    def silenced(self, fid: str, alert: str, now: float) -> bool:
        return any(
            s.function_id == fid and s.alert in (None, alert) and now < s.until
            for s in self.silences
        )


@dataclass(frozen=True, slots=True)
class History:
    """The applied actions replayed: the controls after each one, in time order."""

    steps: tuple[tuple[float, Controls], ...]
    now: Controls

    @classmethod
    def replay(cls, applied: Sequence[Applied]) -> History:
        c = Controls()
        steps = []
        for a in applied:
            c.apply(a)
            steps.append((a.at, copy.deepcopy(c)))
        return cls(tuple(steps), c)

    def at(self, t: float) -> Controls:
        """The controls in force at ``t``."""
        found = _EMPTY
        for at, c in self.steps:
            if at > t:
                break
            found = c
        return found

    def intervals(
        self, cured: Callable[[Controls], bool], start: float, now: float
    ) -> tuple[tuple[tuple[float, float], ...], bool]:
        """When a failure starting at ``start`` was active up to ``now``, and whether it is now.

        A cure ends an interval at the moment its action ran; undoing the cure (closing a
        circuit again, scaling back to zero) starts a new one.
        """
        out: list[tuple[float, float]] = []
        on = not cured(_EMPTY)
        since = start
        for at, c in self.steps:
            if at > now:
                break
            was, on = on, not cured(c)
            if at <= start:
                continue
            if on and not was:
                since = at
            elif was and not on:
                out.append((since, at))
        if on:
            out.append((since, now))
        return tuple(out), on


_EMPTY = Controls()


def overlap(intervals: Sequence[tuple[float, float]], now: float, window_s: float) -> float:
    """The fraction of the window ``[now - window_s, now]`` covered by ``intervals``."""
    lo = now - window_s
    total = 0.0
    for s, e in intervals:
        total += max(0.0, min(e, now) - max(s, lo))
    return min(1.0, total / window_s) if window_s > 0 else 0.0
