"""Starting the TUI from the CLI."""

from __future__ import annotations

from console.context import AppContext


def run_tui(app: AppContext) -> None:
    """Open the console.

    The config is loaded, the store opened and the fleet built first, so a bad file, a
    broken database or a missing secret fails with one line before the screen opens.
    """
    config = app.config
    app.store.open()  # opens (and checks) the store: StoreError here, not in a worker
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
