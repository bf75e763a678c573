"""Rich ``Text`` cells for the fleet table: severity, badges, sparklines, numbers.

Pure functions of the model (Rich only, no Textual), so they are cheap to test and to call
for every visible row on every refresh.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from console.core import fmt
from console.core.model import Finding, Severity
from console.core.snapshot import FunctionHealth

BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 12

#: Calm colours: red is kept for what pages someone.
SEVERITY_STYLE: dict[Severity | None, str] = {
    Severity.PAGE: "bold #ff6b6b",
    Severity.TICKET: "#e5c07b",
    Severity.INFO: "#7fb4ca",
    None: "#6a9955",
}
SEVERITY_LABEL: dict[Severity | None, str] = {
    Severity.PAGE: "● page",
    Severity.TICKET: "● tckt",
    Severity.INFO: "○ info",
    None: "  ok",
}


def worst(h: FunctionHealth) -> Severity | None:
    """The most urgent finding's severity, or None when healthy (diagnose sorts page first)."""
    return h.findings[0].severity if h.findings else None


def severity_cell(h: FunctionHealth) -> Text:
    sev = worst(h)
    return Text(SEVERITY_LABEL[sev], style=SEVERITY_STYLE[sev])


def badges(findings: Sequence[Finding], width: int = 18) -> Text:
    """F-codes coloured by severity, e.g. ``F9 F2``; ``+2`` when they do not fit."""
    out = Text()
    for i, f in enumerate(findings):
        code = f.mode.value
        rest = len(findings) - i
        need = len(code) + (1 if out else 0)
        if out and len(out) + need > width - (3 if rest > 1 else 0):
            out.append(f" +{rest}", style="dim")
            break
        if out:
            out.append(" ")
        out.append(code, style=SEVERITY_STYLE[f.severity])
    return out


def sparkline(
    points: Sequence[float],
    *,
    width: int = SPARK_WIDTH,
    floor: float = 0.0,
    style: str = "",
    relative: bool = False,
) -> Text:
    """The last ``width`` points as block characters, right-aligned.

    By default heights run from 0 to ``max(points, floor)``, so a quiet, healthy error rate
    stays low instead of being stretched to full height by noise. ``relative`` scales from
    the series' minimum to its maximum (a flat series is a flat middle line). No points
    gives "—".
    """
    pts = [p for p in points[-width:] if p is not None]
    if not pts:
        return Text(fmt.NO_DATA, style="dim", justify="right")
    last = len(BLOCKS) - 1
    lo = min(pts) if relative else 0.0
    top = max(max(pts), floor) - lo
    if top <= 0:
        level = [last // 2 if relative else 0] * len(pts)
    else:
        scale = last / top
        level = [min(last, max(0, int((p - lo) * scale + 0.5))) for p in pts]
    chars = "".join(BLOCKS[i] for i in level)
    return Text(chars.rjust(width), style=style)


def number(text: str, style: str = "") -> Text:
    """A right-aligned number cell ("—" is dimmed)."""
    if text == fmt.NO_DATA:
        return Text(text, style="dim", justify="right")
    return Text(text, style=style, justify="right")


def clip(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` cells with an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"


def same(a: object, b: object) -> bool:
    """Whether two cells render the same (``Text.__eq__`` ignores the base style)."""
    if isinstance(a, Text) and isinstance(b, Text):
        return (
            a.plain == b.plain
            and a.style == b.style
            and a.spans == b.spans
            and a.justify == b.justify
        )
    return a == b
