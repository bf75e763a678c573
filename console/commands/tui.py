"""Starting the TUI from the CLI."""

from __future__ import annotations

from console.context import AppContext


def run_tui(app: AppContext) -> None:
    """Open the console.

    The config is loaded and the fleet built first, so a bad file or a missing secret fails
    with a message before the screen opens.
    """
    config = app.config
    fleet = app.fleet()
    from console.tui.app import CallboardApp

    CallboardApp(
        fleet,
        refresh_interval=config.refresh_interval,
        owns_fleet=True,
        context=app,
        store=app.store,
        tune_gc=True,
    ).run()
