"""The "what is on fire" strip: one line under the fleet's header.

``8 page · 2 ticket   INC-0003 open   fastest checkout:POST /pay 28.5×   storefront 2p
28.5× · payments 1p 15.6× · …   F1 F2×2 … F4 F10`` — failure modes in red page (with
their count when more than one function has them), in amber only ticket.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from console.core import fmt
from console.core.onfire import OnFire, Tally
from console.tui import cells
from console.tui.cells import Severity

PAGE = cells.SEVERITY_STYLE[Severity.PAGE]
TICKET = cells.SEVERITY_STYLE[Severity.TICKET]
#: Teams named before "+N teams".
SHOWN_TEAMS = 3


def _counts(t: Tally) -> str:
    return " ".join(f"{n}{w}" for n, w in ((t.pages, "p"), (t.tickets, "t")) if n)


def strip_text(fire: OnFire, incidents: Sequence[object] = ()) -> Text:
    """The strip for ``fire`` and the active ``incidents`` (newest first), most important
    first so a narrow terminal cuts only the tail: counts, incidents, the fastest burn,
    teams (most urgent first), failure modes (paging first)."""
    total = fire.total
    out = Text(" ", no_wrap=True, overflow="ellipsis")
    out.append(f"{total.pages} page", style=PAGE if total.pages else "")
    out.append(" · ")
    out.append(f"{total.tickets} ticket", style=TICKET if total.tickets else "")
    if not total.burning:
        out.append("   nothing burning", style=cells.SEVERITY_STYLE[None])
    if incidents:
        first = incidents[0]
        out.append("   ")
        out.append(
            f"{getattr(first, 'id', '?')} {getattr(first, 'status', '')}".strip(), style="bold"
        )
        if len(incidents) > 1:
            out.append(f" +{len(incidents) - 1} open")
    if total.fastest and total.fastest[0] >= 1.0:
        out.append("   fastest ", style="dim")
        out.append(f"{total.fastest[1]} {fmt.burn(total.fastest[0])}", style="bold")
    teams = list(fire.teams.items())
    if teams:
        out.append("   ")
        for i, (team, tally) in enumerate(teams[:SHOWN_TEAMS]):
            if i:
                out.append(" · ", style="dim")
            out.append(team or "no owner", style="bold")
            out.append(f" {_counts(tally)}", style=PAGE if tally.pages else TICKET)
            if tally.fastest and tally.fastest[0] >= 1.0:
                out.append(f" {fmt.burn(tally.fastest[0])}")
        if len(teams) > SHOWN_TEAMS:
            out.append(f" +{len(teams) - SHOWN_TEAMS} teams", style="dim")
    modes = list(fire.modes.items())
    if modes:
        out.append("   ")
        for i, (mode, (pages, tickets)) in enumerate(modes):
            if i:
                out.append(" ")
            n = pages + tickets
            out.append(mode.value + (f"×{n}" if n > 1 else ""), style=PAGE if pages else TICKET)
    return out


class FireStrip(Static):
    """What is burning, by team and by failure mode (see :func:`strip_text`)."""

    DEFAULT_CSS = """
    FireStrip { height: 1; background: $surface; }
    """

    def __init__(self) -> None:
        super().__init__(Text(""), id="fire-strip")
