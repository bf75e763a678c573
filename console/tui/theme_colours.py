"""Severity colours from the active theme, made readable (WCAG AA, 4.5:1) on its rows.

The fleet's rows used fixed colours picked for a dark background: on a light theme they
read at 1.2–2.4:1. Each calm colour is kept where it reads at 4.5:1 on the theme's
background and surface; otherwise the theme's error, warning, primary or success colour
is darkened (light theme) or lightened (dark theme) until it does.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual.color import Color

from console.core.model import Severity

#: WCAG AA for normal text.
AA = 4.5
#: The console's calm colours for a dark background (red kept for what pages).
CALM: dict[Severity | None, str] = {
    Severity.PAGE: "#ff6b6b",
    Severity.TICKET: "#e5c07b",
    Severity.INFO: "#7fb4ca",
    None: "#6a9955",
}
#: Steps of 5% toward black or white before giving up (20 reach black/white itself).
STEPS = 20


def luminance(c: Color) -> float:
    """WCAG relative luminance of an opaque colour."""

    def channel(v: int) -> float:
        x = v / 255
        return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)


def contrast(a: Color, b: Color) -> float:
    """WCAG contrast ratio of two opaque colours (1 to 21)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def readable(c: Color, *backgrounds: Color, minimum: float = AA) -> Color:
    """``c``, darkened or lightened (away from the backgrounds) until it reads at
    ``minimum`` on every one of ``backgrounds``."""
    dark_bg = sum(luminance(b) for b in backgrounds) / len(backgrounds) < 0.18
    target = Color(255, 255, 255) if dark_bg else Color(0, 0, 0)
    for step in range(STEPS + 1):
        out = c.blend(target, step / STEPS)
        if all(contrast(out, b) >= minimum for b in backgrounds):
            return out
    return target


def severity_styles(variables: Mapping[str, str]) -> dict[Severity | None, str]:
    """The fleet's severity styles for a theme's CSS variables (``theme_variables``)."""
    bg = Color.parse(variables["background"])
    surface = Color.parse(variables["surface"])
    surface = bg.blend(surface, surface.a) if surface.a < 1 else surface

    def pick(calm: str, name: str) -> str:
        # The calm default where it already reads at AA (dark themes: screenshots and
        # snapshots stay as they were); otherwise the theme's own colour, made readable.
        default = Color.parse(calm)
        if all(contrast(default, b) >= AA for b in (bg, surface)):
            return calm
        return readable(Color.parse(variables[name]), bg, surface).hex

    return {
        Severity.PAGE: f"bold {pick(CALM[Severity.PAGE], 'error')}",
        Severity.TICKET: pick(CALM[Severity.TICKET], "warning"),
        Severity.INFO: pick(CALM[Severity.INFO], "primary"),
        None: pick(CALM[None], "success"),
    }


def production_header(variables: Mapping[str, str]) -> dict[str, str]:
    """CSS variables for the production header: the theme's error colour, darkened until
    white text reads at 4.5:1 on it (production stays red, in every theme)."""
    white = Color(255, 255, 255)
    error = Color.parse(variables["error"])
    return {
        "callboard-production-background": readable(error, white).hex,
        "callboard-production-text": white.hex,
    }
