"""What a seed generates is pinned: speeding the demo up must not change one number.

The digests below were taken from the demo before its generation was made faster (commit
fabd288); a change to any function, profile, signal or baseline the seed yields changes
them. A deliberate change to the demo's story updates them (and says so in its commit).
Floats are compared to 9 significant digits, so a libm's last bit does not matter.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Any

import pytest
from callboard_demo import DemoPlugin
from callboard_demo.fleet import build_fleet
from callboard_demo.scenario import SCENARIO_FUNCTIONS

from console.plugin_api import MemoryState, PluginContext

NOW = 1_800_000_000.0


def canon(v: Any) -> str:
    """A stable text of ``v``: floats to 9 significant digits, containers in their order."""
    if isinstance(v, float):
        return f"{v:.9g}"
    if isinstance(v, tuple | list):
        return "(" + ",".join(canon(x) for x in v) + ")"
    if isinstance(v, Mapping):
        return "{" + ",".join(f"{k}={canon(x)}" for k, x in v.items()) + "}"
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return type(v).__name__ + canon(tuple(getattr(v, f.name) for f in dataclasses.fields(v)))
    return str(v)


def digest(v: Any) -> str:
    return hashlib.sha256(canon(v).encode()).hexdigest()[:16]


@pytest.mark.parametrize(
    ("seed", "size", "expected"),
    [
        (7, None, "d962b966cf5ed760"),
        (7, 30, "f07f7ad0706d8b79"),
        (7, 10_000, "cdf6b046965dee8f"),
        (3, 2_500, "2242de619c2c4a26"),
    ],
)
def test_the_fleet_a_seed_generates_is_unchanged(
    seed: int, size: int | None, expected: str
) -> None:
    f = build_fleet(seed, size, SCENARIO_FUNCTIONS)
    assert digest((f.functions, f.profiles, f.services, f.owners)) == expected


@pytest.mark.parametrize(
    ("size", "expected"), [(None, "7e699415b66c9902"), (3_000, "75d277930d10d496")]
)
async def test_the_signals_and_baselines_a_seed_yields_are_unchanged(
    size: int | None, expected: str
) -> None:
    ctx = PluginContext(
        http=None,
        secret=lambda name: "",
        clock=lambda: NOW,
        state=MemoryState(),
        options={"demo_size": size} if size else {},
    )
    p = DemoPlugin("demo", {"seed": 7}, ctx)
    fns = await p.functions()
    ticks = [await p.signals(fns, "5m") for _ in range(2)]
    got = digest((ticks, await p.baselines(fns), await p.signals(fns, "1h")))
    assert got == expected
