"""Starting the TUI from the CLI."""

from __future__ import annotations

from console.context import AppContext


def run_tui(app: AppContext) -> None:
    """Open the console. Loads config first so a bad file fails before the screen opens."""
    _ = app.config
    from console.tui.app import CallboardApp

    CallboardApp(app).run()
