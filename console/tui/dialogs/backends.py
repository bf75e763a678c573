"""``b`` (or "Backends" in the palette): each backend's state, error, latency and warnings,
and the alerts each alert backend has that matched no function.

The header only has room for ``prom failing``; this modal says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from console.core import fmt
from console.core.alerts import own_labels, unmatched_by_backend, unmatched_note
from console.core.model import Alert, BackendStatus
from console.core.redact import redact
from console.tui.health import Failing
from console.tui.widgets.status_bar import backend_state

__all__ = ["BackendsScreen", "backends_table"]


#: Below this many columns the errors go under each backend, not in a column of their own.
NARROW = 110
#: Unmatched alerts named per backend before "and N more".
SHOWN_UNMATCHED = 5


def _unmatched_text(alerts: Sequence[Alert]) -> str:
    """``3 alerts matched no function: NodeDown, DiskFull {instance=…}, …``."""
    shown = []
    for a in alerts[:SHOWN_UNMATCHED]:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(own_labels(a).items()) if k != "alertname")
        shown.append(f"{a.name} {{{labels}}}" if labels else a.name)
    more = len(alerts) - SHOWN_UNMATCHED
    tail = f", and {more} more" if more > 0 else ""
    return f"{unmatched_note(len(alerts))}: {', '.join(shown)}{tail}"


def _why(b: BackendStatus, f: Failing | None, unmatched: Sequence[Alert]) -> Text:
    """A backend's latest error, URL and first error (while failing), warnings and
    unmatched alerts, one a line."""
    why = Text()
    if b.error:
        why.append(redact(b.error), style="#ff6b6b")
    if f is not None:
        if f.url:
            why.append(f"\nat {f.url}")
        age = "" if f.age_s is None else f" {fmt.age(f.age_s)} ago"
        if f.first_error not in redact(b.error or ""):
            why.append(f"\nfirst failed{age}: {f.first_error}", style="#ff6b6b")
        elif age:
            why.append(f"\nfirst failed{age}")
    for w in b.warnings:
        why.append(("\n" if why else "") + f"warning: {redact(w)}", style="#e5c07b")
    if unmatched:
        why.append(("\n" if why else "") + redact(_unmatched_text(unmatched)))
    if not why:
        why.append(fmt.NO_DATA, style="dim")
    return why


def backends_table(
    backends: Sequence[BackendStatus],
    unmatched: Sequence[Alert] = (),
    failing: Sequence[Failing] = (),
) -> Table:
    """One row per backend: state, latency, last success, then its error, warnings and the
    alerts it has that matched no function. A failing backend's row also names its URL and
    the first error of the failure with its age (``failing``), beside the latest error
    (which, once the circuit opens, only says "circuit open")."""
    table = Table(box=None, show_header=True, header_style="dim", padding=(0, 2), expand=True)
    table.add_column("backend", style="bold", no_wrap=True)
    table.add_column("plugin", style="dim", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("latency", justify="right", no_wrap=True)
    table.add_column("last ok", justify="right", no_wrap=True)
    table.add_column("error / warnings", ratio=1)
    by_backend = unmatched_by_backend(unmatched)
    first = {f.name: f for f in failing}
    for b in backends:
        word, style = backend_state(b)
        why = _why(b, first.get(b.name), by_backend.get(b.name) or ())
        last_ok = "never" if b.stale_s is None else f"{fmt.age(b.stale_s)} ago"
        cells: list[str | Text] = [b.name, b.plugin, Text(word, style=style)]
        cells += [fmt.ms(b.latency_ms), last_ok]
        table.add_row(*cells, why)
    return table


def backends_list(
    backends: Sequence[BackendStatus],
    unmatched: Sequence[Alert] = (),
    failing: Sequence[Failing] = (),
) -> Group:
    """What :func:`backends_table` says, for a narrow terminal: one line per backend,
    then its error, first error and warnings indented under it (wrapped, never cut)."""
    by_backend = unmatched_by_backend(unmatched)
    first = {f.name: f for f in failing}
    parts: list[Text] = []
    for b in backends:
        word, style = backend_state(b)
        last_ok = "never" if b.stale_s is None else f"{fmt.age(b.stale_s)} ago"
        line = Text.assemble((b.name, "bold"), "  ", (b.plugin, "dim"), "  ", (word, style))
        line.append(f"  latency {fmt.ms(b.latency_ms)}  last ok {last_ok}", style="dim")
        parts.append(line)
        why = _why(b, first.get(b.name), by_backend.get(b.name) or ())
        if why.plain != fmt.NO_DATA:
            parts.append(Text("\n").join(Text("    ") + ln for ln in why.split("\n")))
    return Group(*parts)


class BackendsScreen(ModalScreen[None]):
    """A modal over the current screen; esc or b closes it (q quits, as everywhere)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,b,backspace", "dismiss", "Close"),
    ]
    DEFAULT_CSS = """
    BackendsScreen { align: center middle; }
    #backends-box { width: 110; max-width: 100%; max-height: 90%; height: auto;
                    border: round $accent; background: $panel; padding: 1 2; }
    #backends-title { margin-bottom: 1; }
    """

    def __init__(
        self,
        backends: Sequence[BackendStatus],
        refreshed: str | None,
        unmatched: Sequence[Alert] = (),
        failing: Sequence[Failing] = (),
    ) -> None:
        super().__init__()
        self.failing = tuple(failing)
        self.backends = tuple(backends)
        self.refreshed = refreshed
        self.unmatched = tuple(unmatched)

    def compose(self) -> ComposeResult:
        title = Text("Backends", style="bold")
        if self.refreshed:
            title.append(f"   as of the refresh at {self.refreshed}", style="dim")
        with VerticalScroll(id="backends-box"):
            yield Static(title, id="backends-title")
            if self.backends:
                view = backends_list if self.app.size.width < NARROW else backends_table
                yield Static(view(self.backends, self.unmatched, self.failing), id="backends-body")
            else:
                yield Static(Text("No refresh yet: nothing known.", style="dim"))
            yield Static(Text("esc closes", style="dim"))
