"""The demo's drill scenario: only the named modes fail, from the chosen moment, with the
deploy that caused them just before it; without the options the demo is unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from console.config import Config
from console.config_model import BackendConfig
from console.engine.drills.demo import demo_targets
from console.engine.fleet.build import build_fleet
from console.errors import UserError
from tests.tui_helpers import T0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def demo(clock: Clock, **options: Any) -> Any:
    spec = BackendConfig(name="drill", plugin="demo", options={"seed": 7, **options})
    return build_fleet(Config(backends=(spec,)), clock=clock)


def paging(snapshot: Any) -> dict[str, list[str]]:
    return {h.function.id: [str(f.mode) for f in h.findings] for h in snapshot.functions
            if h.findings}  # fmt: skip


async def test_only_the_drilled_mode_fails_and_only_from_its_moment() -> None:
    clock = Clock()
    fleet = demo(clock, failures="F8", inject_at=T0 + 60)
    try:
        assert paging(await fleet.refresh()) == {}  # healthy before the moment
        plugin = fleet.backends[0].plugin
        assert await plugin.alerts() == []
        deploys = [d.version for d in await plugin.deploys(None, T0 - 3600)]
        assert "v3.8.0" not in deploys  # the cause is not deployed yet
        clock.now = T0 + 400
        assert paging(await fleet.refresh()) == {"profile:PUT /profile": ["F8"]}
        cause = [d for d in await plugin.deploys(None, T0 - 3600) if d.version == "v3.8.0"]
        assert [d.at for d in cause] == ["2026-11-26T21:00:20Z"]  # 40 s before the failure
        assert [a.name for a in await plugin.alerts()] == ["ProfileUpdate422"]
    finally:
        await fleet.aclose()


async def test_without_drill_options_all_ten_failures_are_active() -> None:
    fleet = demo(Clock())
    try:
        modes = {m for ms in paging(await fleet.refresh()).values() for m in ms}
        assert len(modes) >= 8  # the default scenario, as before
    finally:
        await fleet.aclose()


def test_every_mode_has_a_demo_function_and_bad_modes_are_refused() -> None:
    assert sorted(demo_targets(), key=lambda m: int(m[1:])) == [f"F{i}" for i in range(1, 11)]
    with pytest.raises(UserError, match="F12"):
        demo(Clock(), failures="F12")
