"""Readable everywhere: the production header and the fleet's severity colours reach WCAG
AA (4.5:1) in every shipped theme, computed from the theme's own variables.

The ansi-* themes are left out: their colours are whatever the terminal's palette says,
so no contrast can be computed here.
"""

from __future__ import annotations

import pytest
from rich.color import Color as RichColor
from rich.style import Style
from textual.color import Color

from console.core.model import Severity
from console.tui import cells
from console.tui.app import CallboardApp
from console.tui.theme_colours import AA, contrast, severity_styles
from console.tui.widgets.status_bar import StatusBar
from tests.tui.test_tui import settled
from tests.tui_helpers import fake_fleet

THEMES = [n for n in CallboardApp(fake_fleet(1)).available_themes if not n.startswith("ansi")]


def rgb(c: RichColor | None) -> Color:
    assert c is not None
    t = c.get_truecolor()
    return Color(t.red, t.green, t.blue)


def test_every_shipped_theme_is_checked() -> None:
    assert {"textual-dark", "textual-light", "solarized-light", "nord"} <= set(THEMES)


@pytest.mark.parametrize("theme", THEMES)
async def test_the_production_header_and_row_colours_read_at_aa(theme: str) -> None:
    fleet = fake_fleet(5, environment="prod-eu", production=True)
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=(140, 30)) as pilot:
        await settled(app, pilot)
        app.theme = theme
        await pilot.pause()
        bar = app.screen.query_one(StatusBar)
        style = bar.rich_style
        fg, bg = rgb(style.color), rgb(style.bgcolor)
        assert contrast(fg, bg) >= AA, f"{theme}: header {fg.hex} on {bg.hex}"
        for span in bar.render().spans:  # no coloured word on the red: it inherits fg/bg
            s = Style.parse(span.style) if isinstance(span.style, str) else span.style
            assert s.color is None and s.bgcolor is None, f"{theme}: {s} in the header"
            assert not s.dim, f"{theme}: dim text in the header"
        variables = app.get_css_variables()
        back = Color.parse(variables["background"])
        surface = Color.parse(variables["surface"])
        assert severity_styles(variables) == cells.SEVERITY_STYLE  # rows follow the theme
        for sev in (Severity.PAGE, Severity.TICKET, Severity.INFO, None):
            colour = Color.parse(cells.SEVERITY_STYLE[sev].split()[-1])
            for where in (back, surface):
                ratio = contrast(colour, where)
                assert ratio >= AA, f"{theme}: {sev} {colour.hex} on {where.hex}: {ratio:.1f}"
