"""A failing backend says why: one notification when it turns failing, and ``b`` lists
every backend's state, error, latency, warnings and age."""

from __future__ import annotations

from console.core.model import Function, Signals
from console.core.redact import REDACTOR
from console.engine.fleet.refresh import Backend, Fleet
from console.tui.app import CallboardApp
from console.tui.dialogs.backends import BackendsScreen
from tests.tui.test_tui import SIZE, header, screen_text, settled
from tests.tui_helpers import T0, FailingPlugin, FakeFleetPlugin, HangingPlugin, fake_fleet


def failing(app: CallboardApp) -> list[str]:
    return [n.message for n in app._notifications if "failing" in n.message]


class Flaky(FailingPlugin):
    """Answers (with nothing) until ``broken``; then fails like an unreachable server."""

    broken = False
    warnings = ("3 series dropped: no job label",)

    async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
        if self.broken:
            return await super().signals(functions, window)
        return {}


async def test_a_backend_turning_failing_is_notified_once_with_its_error() -> None:
    now = [T0]
    flaky = Flaky()
    fleet = Fleet(
        [Backend("fake", "fake", FakeFleetPlugin(12)), Backend("prom", "prometheus", flaky)],
        clock=lambda: now[0],
        timeout=1.0,
        attempts=1,
    )
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled(app, pilot)
        assert failing(app) == []  # ok: nothing to say
        flaky.broken = True
        for t in (T0 + 60, T0 + 125):  # two failing refreshes: one notification
            now[0] = t
            app.action_refresh_now()
            await settled(app, pilot)
        assert failing(app) == [
            "prom is failing: connection refused (prom.internal:9090) — b shows every backend"
        ]
        await pilot.press("b")
        await pilot.pause()
        assert isinstance(app.screen, BackendsScreen)
        text = " ".join(screen_text(app).split())
        assert "prom prometheus stale 2m05s" in text
        assert "2m05s ago connection refused (prom.internal:9090)" in text  # its last success
        assert "warning: 3 series dropped: no job label" in text
        assert "fake fake ok" in text and "never" not in text
        await pilot.press("escape")
        assert not isinstance(app.screen, BackendsScreen)


async def test_a_backend_failing_from_the_start_is_notified_redacted() -> None:
    REDACTOR.add("s3cr3t-token")

    class Leaky(FailingPlugin):
        async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
            raise RuntimeError("401 for token s3cr3t-token")

    app = CallboardApp(fake_fleet(5, Backend("prom", "prometheus", Leaky())), refresh_interval=3600)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled(app, pilot)
        [note] = failing(app)
        assert note.startswith("prom is failing: RuntimeError: 401 for token ")
        assert "s3cr3t-token" not in note
        app.action_backends()  # also "Backends" in the command palette
        await pilot.pause()
        assert "prom prometheus failing, no data" in " ".join(screen_text(app).split())
        assert "s3cr3t-token" not in screen_text(app)


async def test_the_first_load_names_the_backend_it_waits_on() -> None:
    hang = HangingPlugin()
    app = CallboardApp(fake_fleet(5, Backend("prom", "prometheus", hang)), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await hang.started.wait()
        app._tick()  # a tick while the first refresh still runs
        await pilot.pause()
        assert "still waiting for prom" in header(app)
        hang.release.set()
        await settled(app, pilot)
