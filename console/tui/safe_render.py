"""The console's renderer-side guarantee: no widget can send a control byte to the terminal.

Every line Textual paints is a :class:`textual.strip.Strip` turned into terminal bytes by
``Strip.render`` — the one choke point between any widget (ours, Textual's, a Rich
renderable) and the terminal. Textual passes segment text through as it is: a label with
``ESC ] 52`` in it would reach the terminal and write the clipboard. :func:`install` makes
``Strip.render`` drop every C0/C1 control character from segment *text* before it renders;
styles (colour, bold, links) are applied by Textual afterwards, as before. Control
characters are zero cells wide, so dropping them changes no layout.

Data is already cleaned where it enters the model (:mod:`console.core.sanitize`); this
catches anything else (a message, an old row in the store). It checks a strip once: the
result sits in Textual's own render cache.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.segment import Segment
from textual.strip import Strip

from console.core.sanitize import CONTROL

__all__ = ["install", "installed"]

_MARK = "_callboard_safe"


def _safe(render: Any) -> Any:
    def safe_render(self: Strip, console: Console) -> str:
        if self._render_cache is None:
            text = self.text
            if not text.isprintable() and CONTROL.search(text) is not None:
                clean = Strip(
                    [Segment(CONTROL.sub("", t), s, c) for t, s, c in self._segments],
                    self._cell_length,
                )
                self._render_cache = render(clean, console)
        return str(render(self, console))

    setattr(safe_render, _MARK, True)
    safe_render.__doc__ = render.__doc__
    return safe_render


def installed() -> bool:
    """Whether ``Strip.render`` drops control characters."""
    return getattr(Strip.render, _MARK, False) is True


def install() -> None:
    """Make ``Strip.render`` drop control characters from segment text (idempotent).

    Raises:
        RuntimeError: this Textual's Strip no longer has the render cache relied on (an
            upgrade changed it): better to refuse to start than to paint unguarded.
    """
    if installed():
        return
    probe = Strip([Segment("x")])
    if not all(hasattr(probe, a) for a in ("_render_cache", "_segments", "_cell_length")):
        raise RuntimeError("textual.strip.Strip changed: the terminal guard cannot be installed")
    Strip.render = _safe(Strip.render)  # type: ignore[method-assign]
