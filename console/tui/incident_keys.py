"""``i`` and ``I``: open an incident on a function, or show an incident's timeline.

Navigation only (which screen to push); the incident itself is written by the app's
:class:`~console.tui.incidents.IncidentDesk`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.tui.state import ConsoleApp

__all__ = ["open_incident_for", "show_timeline"]


def open_incident_for(app: ConsoleApp, function_id: str) -> None:
    """``i`` on a function: its open incident's timeline, or a dialog to open one."""
    desk = app.desk
    if desk is None:
        app.notify("Incidents need a database (run without --db :memory:).", timeout=4)
        return
    inc = app.active_incident(function_id)
    if inc is not None:
        show_timeline(app, inc.id)
        return
    from console.tui.dialogs.incident_dialogs import OpenIncidentScreen, default_title

    snap = app.snapshot
    health = snap.by_id().get(function_id) if snap is not None else None

    def opened(answer: tuple[str, str] | None) -> None:
        if answer is not None:
            desk.write_incident(function_id, *answer)

    app.push_screen(OpenIncidentScreen(function_id, default_title(function_id, health)), opened)


def show_timeline(app: ConsoleApp, incident_id: str | None = None) -> None:
    """Push the timeline of ``incident_id`` (default: the newest active incident)."""
    from console.tui.screens.timeline import TimelineScreen

    if app.desk is None:
        app.notify("Incidents need a database.", timeout=4)
        return
    inc = app.active_incident() if incident_id is None else None
    target = incident_id or (inc.id if inc else None)
    if target is None:
        app.notify("No open incident. Press i on a function to open one.", timeout=4)
        return
    app.push_screen(TimelineScreen(target))
