"""The header: environment, each backend's state, last refresh, PAUSED and READ-ONLY."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Span, Text
from textual.app import App
from textual.reactive import reactive
from textual.widgets import Static

from console.core import fmt
from console.core.model import BackendStatus
from console.core.snapshot import FleetSnapshot
from console.tui.state import ConsoleApp

if TYPE_CHECKING:
    from textual import getters

    from console.tui.health import Health

#: A backend answering slower than this is shown as slow.
SLOW_MS = 2000.0


def backend_state(b: BackendStatus) -> tuple[str, str]:
    """(word, style) for one backend: ok, slow, failing or stale with its age."""
    if not b.ok:
        if b.stale_s is None:
            return "failing, no data", "bold #ff6b6b"
        return f"stale {fmt.age(b.stale_s)}", "bold #ff6b6b"
    if b.latency_ms is not None and b.latency_ms >= SLOW_MS:
        return f"slow {fmt.ms(b.latency_ms)}", "#e5c07b"
    return "ok", "#6a9955"


def _colourless(style: str | Style) -> Style:
    """Weight and reverse only: no colour and no dim (dim on red drops below 4.5:1)."""
    s = Style.parse(style) if isinstance(style, str) else style
    return Style(bold=s.bold, italic=s.italic, reverse=s.reverse)


def refreshed_at(generated_at: str) -> str:
    """``2026-11-26T21:00:05Z`` → ``21:00:05Z`` (the fleet's clock, not the wall clock)."""
    return generated_at[11:] if "T" in generated_at else generated_at


class StatusBar(Static):
    """One line across the top; red when the environment is production.

    It follows the app's state itself (``shown``, ``paused``, ``refreshing``, the receiver
    and, while the first load waits, who it waits on): nothing sets it from outside.
    """

    if TYPE_CHECKING:
        app = getters.app(ConsoleApp)

    snapshot: reactive[FleetSnapshot | None] = reactive(None, always_update=True)
    paused: reactive[bool] = reactive(False)
    refreshing: reactive[bool] = reactive(False)
    #: The embedded OTLP receiver: (text, ok), or None when it does not run.
    receiver: reactive[tuple[str, bool] | None] = reactive(None)
    #: Backends with neither an answer nor an error yet (named while the first load waits).
    waiting: reactive[tuple[str, ...]] = reactive(())
    #: A drill's banner with its elapsed time (None outside a drill).
    drill: reactive[str | None] = reactive(None)

    def __init__(self, environment: str, *, production: bool, read_only: bool) -> None:
        super().__init__(id="status-bar")
        self.environment = environment
        self.production = production
        self.read_only = read_only
        self.set_class(production, "-production")

    def on_mount(self) -> None:
        app = self.app
        # A header pushed later starts from the latest refresh, then follows what is shown.
        self.snapshot = app.snapshot
        self.watch(app, "shown", self._show, init=False)
        self.watch(app, "paused", self._paused)
        self.watch(app, "refreshing", self._refreshing)
        self.watch(app, "receiver_note", self._receiver)
        self.watch(app, "health", self._health)
        self.watch(app, "drill_banner", self._drill)

    def _drill(self, banner: str | None) -> None:
        self.drill = banner

    def _show(self, snapshot: FleetSnapshot | None) -> None:
        self.snapshot = snapshot

    def _paused(self, paused: bool) -> None:
        self.paused = paused

    def _refreshing(self, refreshing: bool) -> None:
        self.refreshing = refreshing

    def _receiver(self, note: tuple[str, bool] | None) -> None:
        self.receiver = note

    def _health(self, health: Health) -> None:
        self.waiting = health.waiting

    def render(self) -> Text:
        snap = self.snapshot
        env = snap.environment if snap else self.environment
        prod = snap.production if snap else self.production
        read_only = snap.read_only if snap else self.read_only
        out = Text(" callboard ", style="bold")
        out.append(f" {'PRODUCTION ' if prod else ''}{env} ", style="bold reverse")
        out.append("  ")
        if self.drill is not None:
            out.append(f" {self.drill} ", style="bold reverse #c678dd")
            out.append("  ")
        if snap is None:
            out.append("loading the fleet…", style="italic")
            if self.refreshing:
                waiting = ", ".join(self.waiting) or "a backend"
                out.append(f" still waiting for {waiting}", style="italic #e5c07b")
        else:
            for b in snap.backends:
                word, style = backend_state(b)
                out.append(f"{b.name} ")
                out.append(word, style=style)  # latency only when slow: calm, and stable
                out.append("  ")
            out.append(f"refreshed {refreshed_at(snap.generated_at)}", style="dim")
        if self.receiver is not None:
            text, ok = self.receiver
            out.append("  ")
            out.append(text, style="dim" if ok else "bold #e5c07b")
        if self.refreshing and snap is not None:
            out.append("  refreshing…", style="italic dim")
        if self.paused:
            out.append("  ")
            out.append(" PAUSED ", style="bold reverse #e5c07b")
        if read_only:
            out.append("  ")
            out.append(" READ-ONLY ", style="bold reverse #7fb4ca")
        if prod:
            # On the production red, coloured words read at 2.5–3.5:1: keep their weight
            # and reverse badges, take the header's own (theme-derived, AA) colours.
            out.spans = [Span(sp.start, sp.end, _colourless(sp.style)) for sp in out.spans]
        return out


def status_bar_for(app: App[Any]) -> StatusBar | None:
    """A header for a screen pushed over the fleet, in the app's environment (None outside
    the console: the waterfall bench pushes its screen onto a bare app)."""
    if not isinstance(app, ConsoleApp):
        return None
    name, prod, ro = app.env
    return StatusBar(name, production=prod, read_only=ro)
