"""At 80×24: the footer keeps ``? Help`` on screen, fleet ids are cut in the middle with
``…`` (the operation stays), and the function screen stacks its columns, findings first."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from console.tui.app import CallboardApp
from console.tui.fleetview import mid_clip
from tests.tui.test_tui import settled, table
from tests.tui_helpers import demo_fleet

SMALL = (80, 24)


async def test_the_footer_keeps_help_visible_at_80_columns() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=SMALL) as pilot:
        await settled(app, pilot)
        [help_key] = [k for k in app.screen.query(FooterKey) if k.key == "question_mark"]
        assert help_key.region.width > 0 and help_key.region.right <= 80


async def test_fleet_ids_are_cut_in_the_middle_keeping_the_operation() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=SMALL) as pilot:
        await settled(app, pilot)
        t = table(app)
        width = next(c.width for c in t.shown_columns if c.key == "id")
        cell = t.get_cell("notifications:worker email-send", "id").plain
        assert len(cell) <= width and "…" in cell
        assert cell.endswith(":worker email-send") or cell.endswith("email-send")
        assert t.virtual_size.width <= 80  # the modes column is on screen, not clipped
        assert t.get_cell("profile:PUT /profile", "modes").plain == "F8 14.2% 400/422"
    assert mid_clip("notifications:worker email-send", 20) == "n…:worker email-send"
    assert mid_clip("checkout:POST /pay", 20) == "checkout:POST /pay"
    assert mid_clip("notifications:worker email-send", 24) == "notif…:worker email-send"
    assert mid_clip("a:" + "x" * 30, 10) == "…" + "x" * 9


async def test_the_function_screen_stacks_below_110_columns_findings_first() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=SMALL) as pilot:
        await settled(app, pilot)
        app.open_function("checkout:POST /pay")
        await pilot.pause()
        screen = app.screen
        findings = screen.query_one("#fn-findings")
        signals = screen.query_one("#fn-signals")
        assert findings.region.y < signals.region.y  # findings first
        assert signals.region.width >= 70  # the whole width, not 8 columns
        assert findings.region.y < 24  # on the first screen, no pgdn needed
        [help_key] = [k for k in screen.query(FooterKey) if k.key == "question_mark"]
        assert help_key.region.right <= 80
        await pilot.resize_terminal(140, 45)
        await pilot.pause()
        assert screen.query_one("#fn-signals").region.x < screen.query_one("#fn-findings").region.x
