"""A big demo fleet is generated with the cyclic collector paused: it must come back on.

The pause is process-wide, so a bug here would leave a whole console without cycle
collection (memory growing for ever) or turn the collector on behind a caller that had
turned it off on purpose.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest
from callboard_demo import DemoPlugin

from console.config import Config
from console.engine.fleet.build import build_fleet
from console.plugin_api import MemoryState, PluginContext

BIG = 2500  # above the demo's and the engine's BIG_FLEET: the paused, threaded paths
NOW = 1_800_000_000.0


@pytest.fixture
def collector() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def demo(size: int) -> DemoPlugin:
    ctx = PluginContext(
        http=None, secret=lambda name: "", clock=lambda: NOW, state=MemoryState(),
        options={"demo_size": size},
    )  # fmt: skip
    return DemoPlugin("demo", {}, ctx)


async def test_the_collector_is_on_again_after_a_big_fleet_and_its_batches(
    collector: None,
) -> None:
    gc.enable()
    p = demo(BIG)
    fns = await p.functions()
    # Signals and baselines side by side: two paused sections overlap in two threads.
    sig, base = await asyncio.gather(p.signals(fns, "5m"), p.baselines(fns))
    assert len(fns) == len(sig) == len(base) == BIG
    assert gc.isenabled()


async def test_a_big_refresh_leaves_the_collector_on(collector: None) -> None:
    gc.enable()
    fleet = build_fleet(Config(), demo=True, demo_size=BIG, clock=lambda: NOW)
    try:
        snap = await fleet.refresh()
        await fleet.refresh()
    finally:
        await fleet.aclose()
    assert len(snap.functions) == BIG
    assert gc.isenabled()


async def test_a_collector_turned_off_by_the_caller_stays_off(collector: None) -> None:
    gc.disable()
    fleet = build_fleet(Config(), demo=True, demo_size=BIG, clock=lambda: NOW)
    try:
        await fleet.refresh()
    finally:
        await fleet.aclose()
    assert not gc.isenabled()
