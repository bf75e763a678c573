"""The ``/`` filter: the regex as typed (``\\S`` is not ``\\s``), ``^``/``$`` per field, and an
invalid regex falls back to a substring match the status line owns up to."""

from __future__ import annotations

from console.tui.app import CallboardApp
from tests.tui.test_tui import SIZE, keys, screen_text, settled
from tests.tui_helpers import demo_fleet, fake_fleet


async def filtered(app: CallboardApp, text: str) -> list[str]:
    app.set_filter(text)
    return keys(app)


async def test_regex_anchors_each_field_and_keeps_its_escapes() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert await filtered(app, "Capture$") == ["payments:rpc Capture"]
        assert await filtered(app, r"^\S+:rpc Ca") == ["payments:rpc Capture"]
        assert sorted(await filtered(app, "^growth$")) == sorted(  # the owner field, whole
            k for k in keys(app) if k.startswith(("notifications:", "profile:"))
        )
        assert len(keys(app)) == 8
        assert await filtered(app, r"^F10\b") == ["media:serverless resize-image"]
        await pilot.pause()
        assert "invalid regex" not in screen_text(app)


async def test_an_invalid_regex_is_a_substring_match_and_says_so() -> None:
    app = CallboardApp(fake_fleet(40), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        assert await filtered(app, "Q[PROD") == ["search:GET /q[prod]"]  # no "]": invalid
        await pilot.pause()
        text = screen_text(app)
        assert "filter Q[PROD (invalid regex — substring match)" in text
        assert "1 of 40 functions" in text
