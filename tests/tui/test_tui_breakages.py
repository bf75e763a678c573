"""Small breakages: F-code filters match whole codes, ``p`` says Resume while paused, and
the palette's screenshot works without ~/Downloads (and says where it went)."""

from __future__ import annotations

from pathlib import Path

from console.tui.app import CallboardApp
from tests.tui.test_tui import SIZE, keys, settled
from tests.tui_helpers import demo_fleet, fake_fleet

MEDIA = "media:serverless resize-image"  # the demo's F10


async def test_an_f_code_filter_matches_the_code_as_a_whole_token() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        app.set_filter("F1")
        assert keys(app) == ["checkout:POST /pay"]  # not F10's media row too
        app.set_filter("^F1$")
        assert keys(app) == ["checkout:POST /pay"]
        app.set_filter("f10")
        assert keys(app) == [MEDIA]
        app.set_filter("Timeout")  # the mode's name still matches
        assert keys(app) == ["checkout:POST /pay"]


def footer_keys(app: CallboardApp) -> dict[str, str]:
    return {
        b.key: b.description
        for b in (a.binding for a in app.screen.active_bindings.values())
        if b.show
    }


async def test_p_reads_resume_while_paused() -> None:
    app = CallboardApp(fake_fleet(5), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert footer_keys(app)["p"] == "Pause"
        await pilot.press("p")
        assert app.paused
        assert footer_keys(app)["p"] == "Resume"
        await pilot.press("p")
        assert not app.paused and footer_keys(app)["p"] == "Pause"


async def test_a_screenshot_without_downloads_goes_to_the_state_dir_and_says_so(
    tmp_path: Path,
) -> None:
    app = CallboardApp(fake_fleet(5), refresh_interval=3600)
    app.downloads_dir = tmp_path / "Downloads"  # missing
    app.paths_env = {"XDG_STATE_HOME": str(tmp_path / "state"), "HOME": str(tmp_path)}
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settled(app, pilot)
        app.deliver_screenshot()
        await pilot.pause()
        [shot] = list((tmp_path / "state" / "callboard" / "screenshots").glob("*.svg"))
        assert shot.read_text(encoding="utf-8").startswith("<svg")
        assert any(str(shot) in n.message for n in app._notifications)
        assert not (tmp_path / "Downloads").exists()
