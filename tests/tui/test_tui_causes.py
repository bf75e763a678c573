"""Cause and effect: a finding's evidence names the deploy that preceded its onset, with
relative times; an onset the console did not see is said to be unknown, never invented."""

from __future__ import annotations

from console.core.causes import Onsets, ago, explain
from console.core.model import Deploy, Function, Signals
from console.engine.fleet.refresh import Backend, Fleet
from console.tui.app import CallboardApp
from tests.tui.test_tui import SIZE, screen_text, settled
from tests.tui_helpers import T0, FakeFleetPlugin, fake_fleet

PAY = "checkout:POST /pay"


def one_line(app: CallboardApp) -> str:
    return " ".join(screen_text(app).split())


async def test_a_finding_present_from_the_start_says_its_onset_is_unknown() -> None:
    app = CallboardApp(fake_fleet(12), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        app.open_function(PAY)
        await pilot.pause()
        text = one_line(app)
        assert (
            "already failing when the console started; checkout v2.14.1 by alice"
            " 19 min before that (19 min ago, 20:41:00Z)" in text
        )
        assert "19 min ago" in text.split("Recent deploys")[1]  # relative, absolute beside


class Breaks(FakeFleetPlugin):
    """Healthy until ``broken``; then function 0 fails. Its deploy is 40 s before T0+60."""

    broken = False

    async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
        out = await super().signals(functions, window)
        if not self.broken:
            out[PAY] = Signals(rate_rps=120.0, success_rate=0.9999, p99_ms=90.0)
        return out

    async def deploys(self, function: Function | None, since: float) -> list[Deploy]:
        return [
            Deploy(
                PAY, "v2.14.0", "2026-11-26T21:00:20Z", "maya.chen", "", previous_version="v2.13.2"
            )
        ]


async def test_a_finding_that_appears_names_the_deploy_before_it() -> None:
    now = [T0]
    plugin = Breaks(12)
    fleet = Fleet([Backend("fake", "fake", plugin)], clock=lambda: now[0], attempts=1)
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        plugin.broken = True
        now[0] = T0 + 60
        app.action_refresh_now()
        await settled(app, pilot)
        now[0] = T0 + 20 * 60 + 20  # the engineer looks 20 minutes after the deploy
        app.action_refresh_now()
        await settled(app, pilot)
        app.open_function(PAY)
        await pilot.pause()
        text = one_line(app)
        assert "began 40 s after checkout v2.14.0 by maya.chen (20 min ago, 21:00:20Z)" in text


def test_onsets_forget_a_finding_that_went_away() -> None:
    assert ago(40) == "40 s" and ago(1200) == "20 min" and ago(3 * 3600 + 300) == "3 h 05 min"
    assert explain(None, None, T0, ()) is None
    assert explain(T0, T0 - 600, T0 + 30, ()) == (
        "began 30 s ago (21:00:00Z); no deploy or alert in the hour before"
    )
    assert explain(None, T0, T0, ()) == (
        "already failing when the console started: its onset is not known"
    )
    assert Onsets().started is None
