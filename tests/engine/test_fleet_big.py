"""A big fleet's refresh (built in a thread) shows what a small one shows, and frees its past."""

from __future__ import annotations

import gc

from console.config import Config
from console.core.snapshot import FleetSnapshot
from console.engine.fleet.build import build_fleet
from console.engine.fleet.refresh import BIG_FLEET

NOW = 1_800_000_000.0


def _alive() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, FleetSnapshot))


async def test_a_big_fleet_shows_the_same_deploys_alerts_and_findings_as_a_small_one() -> None:
    small = build_fleet(Config(), demo=True, demo_size=48, clock=lambda: NOW)
    big = build_fleet(Config(), demo=True, demo_size=BIG_FLEET + 500, clock=lambda: NOW)
    try:
        s, b = await small.refresh(), await big.refresh()
        by_id = b.by_id()
        for h in s.functions:  # the demo's story functions are in every fleet size
            other = by_id[h.id]
            assert [f.mode for f in other.findings] == [f.mode for f in h.findings], h.id
            assert [a.name for a in other.alerts] == [a.name for a in h.alerts], h.id
        assert b.deploys and set(s.deploys) <= set(b.deploys)
        for fid, deploys in s.deploys.items():
            assert [d.version for d in b.deploys[fid]] == [d.version for d in deploys]
    finally:
        await small.aclose()
        await big.aclose()


async def test_a_big_fleet_keeps_at_most_two_snapshots_alive_across_refreshes() -> None:
    now = [NOW]
    fleet = build_fleet(Config(), demo=True, demo_size=BIG_FLEET + 1, clock=lambda: now[0])
    before = _alive()
    try:
        for _ in range(5):
            now[0] += 5.0
            await fleet.refresh()
        # The last one, and the one before it (freed by the next refresh, off the UI thread).
        assert _alive() - before <= 2
    finally:
        await fleet.aclose()
