"""The base of the console's screens: ``self.app`` typed as the :class:`ConsoleApp`.

Only for the type checker (Textual's own ``getters.app``): at run time ``app`` is Textual's
property, so a screen pushed onto another app (the waterfall bench) still works.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.screen import Screen

if TYPE_CHECKING:
    from textual import getters

    from console.tui.state import ConsoleApp

__all__ = ["CallboardScreen"]


class CallboardScreen(Screen[None]):
    """A full screen of the console (its state is the app's: see ``ConsoleApp``)."""

    if TYPE_CHECKING:
        app = getters.app(ConsoleApp)
