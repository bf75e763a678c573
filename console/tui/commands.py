"""Command palette (ctrl+p): go to a function by fuzzy name; toggles and sorts.

Theme switching is Textual's own system command, kept alongside these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from console.tui.state import ConsoleApp

#: Best matches shown at most (the fleet may hold 10,000 functions).
MAX_HITS = 30


def console_of(provider: Provider) -> ConsoleApp:
    """The palette's app as the console (these providers are only installed there)."""
    app = provider.app
    assert isinstance(app, ConsoleApp)
    return app


class FunctionsProvider(Provider):
    """``checkout pay`` → open ``checkout:POST /pay``."""

    def _ids(self) -> list[str]:
        snap = console_of(self).snapshot
        return [h.id for h in snap.functions] if snap is not None else []

    async def search(self, query: str) -> Hits:
        app = console_of(self)
        matcher = self.matcher(query)
        scored: list[tuple[float, str]] = []
        for fid in self._ids():
            score = matcher.match(fid)
            if score > 0:
                scored.append((score, fid))
        scored.sort(key=lambda p: (-p[0], p[1]))
        for score, fid in scored[:MAX_HITS]:
            yield Hit(
                score,
                matcher.highlight(fid),
                partial(app.open_function, fid),
                help="open this function",
            )


class ViewProvider(Provider):
    """Toggles, sorting and pause, by name."""

    def _commands(self) -> Iterable[tuple[str, str, Callable[[], Any]]]:
        from console.tui.fleetview import COLUMNS

        app = console_of(self)
        yield "Toggle: only unhealthy", "show only functions with findings", app.toggle_unhealthy
        yield "Toggle: group by owner", "group rows by owning team", app.toggle_group
        yield "Toggle: pause live refresh", "freeze the screen (p)", app.action_toggle_pause
        yield "Clear filter", "show every function", partial(app.set_filter, "")
        yield (
            "Backends",
            "each backend's state, error, latency and warnings (b)",
            app.action_backends,
        )
        for col in COLUMNS:
            yield (
                f"Sort by {col.label}",
                f"sort the fleet by {col.label}",
                partial(app.sort_by, col.key),
            )

    async def discover(self) -> Hits:
        for title, help_, cb in self._commands():
            yield DiscoveryHit(title, cb, help=help_)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_, cb in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), cb, help=help_)
