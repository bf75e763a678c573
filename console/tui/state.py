"""The console's state and what screens may ask of the app: the type of every ``self.app``.

Screens and widgets type their ``app`` as :class:`ConsoleApp` (``getters.app(ConsoleApp)``),
not as the :class:`~console.tui.app.CallboardApp` that implements it: the app module imports
the screens, so a screen importing it back would make the two need each other. This module
imports no screen and no widget.

The state is reactive, screens and widgets watch it (``self.watch(self.app, "shown", ...)``):
``snapshot`` (the latest refresh), ``shown`` (the one on screen: frozen while paused),
``health`` (the backends, read once per shown refresh), ``paused``, ``refreshing``,
``receiver_note`` and ``incidents``. Nothing is pushed down.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING

from textual.app import App
from textual.reactive import reactive, var

from console.core.causes import Onsets
from console.core.snapshot import FleetSnapshot
from console.core.timeline import iso_at
from console.engine.incidents.lifecycle import Incident
from console.engine.incidents.service import newest_active
from console.tui.health import Health

if TYPE_CHECKING:
    from console.context import AppContext
    from console.engine.fleet.refresh import Fleet
    from console.tui.incidents import IncidentDesk

__all__ = ["ConsoleApp"]


class ConsoleApp(App[None]):
    """The console's state and the navigation screens call (implemented by ``CallboardApp``)."""

    #: Live refresh frozen (``p``): refreshes still arrive, ``shown`` stays.
    paused: reactive[bool] = reactive(False)
    #: The latest refresh (None before the first).
    snapshot: var[FleetSnapshot | None] = var(None, always_update=True, init=False)
    #: The refresh on screen: every screen and header watches it.
    shown: var[FleetSnapshot | None] = var(None, always_update=True, init=False)
    #: The backends as shown with ``shown`` (set just before it).
    health: var[Health] = var(Health(), always_update=True, init=False)
    #: A tick was skipped: the last refresh is still running.
    refreshing: var[bool] = var(False, init=False)
    #: What the header says about the OTLP receiver: (text, ok), or None.
    receiver_note: var[tuple[str, bool] | None] = var(None, init=False)
    #: The active (open or mitigated) incidents, newest first.
    incidents: var[list[Incident]] = var(list, always_update=True, init=False)
    #: A drill's banner (``DRILL 1m 05s``), shown in every header; None outside a drill.
    drill_banner: var[str | None] = var(None, init=False)

    #: The fleet the console refreshes (its clock and environment too).
    fleet: Fleet
    #: Store, secrets and runbook folders for the runbook runner (None: an in-memory store).
    context: AppContext | None
    #: Writes incidents and their timelines (None without a store: no incident keys).
    desk: IncidentDesk | None
    #: When each finding first appeared this session (the cause lines' onsets).
    onsets: Onsets

    @property
    def env(self) -> tuple[str, bool, bool]:
        """(environment, production, read-only) of the fleet."""
        f = self.fleet
        return f.environment, f.production, f.read_only

    def now_iso(self) -> str:
        """The fleet's clock as event time (tests and the demo run on their own clock)."""
        return iso_at(self.fleet.clock())

    def active_incident(self, function_id: str | None = None) -> Incident | None:
        """The newest open or mitigated incident (on ``function_id`` if given)."""
        return newest_active(self.incidents, function_id)

    # -- navigation and keys, implemented by the app --------------------------------------

    @abstractmethod
    def open_function(self, function_id: str) -> None:
        """Show ``function_id``'s screen (a run in progress is not abandoned without asking)."""

    @abstractmethod
    def open_incident_for(self, function_id: str) -> None:
        """``i`` on a function: its open incident's timeline, or a dialog to open one."""

    @abstractmethod
    def open_runbooks(self, function_id: str) -> None:
        """``r`` on a function: the runner for its worst finding (or a picker, or why not)."""

    @abstractmethod
    def action_show_timeline(self) -> None:
        """``I``: the newest open incident's timeline."""

    @abstractmethod
    def action_toggle_pause(self) -> None:
        """``p``: freeze or resume live refresh."""

    @abstractmethod
    def action_refresh_now(self) -> None:
        """``ctrl+r``: refresh now (shown even while paused)."""

    @abstractmethod
    def action_backends(self) -> None:
        """``b``: each backend's state, error, latency, warnings and age."""

    @abstractmethod
    def toggle_unhealthy(self) -> None:
        """Show only the functions with findings (or all again)."""

    @abstractmethod
    def toggle_group(self) -> None:
        """Group the fleet's rows by owning team (or not)."""

    @abstractmethod
    def set_filter(self, text: str) -> None:
        """Filter the fleet's rows by ``text`` ("" shows every function)."""

    @abstractmethod
    def sort_by(self, key: str) -> None:
        """Sort the fleet by the column ``key``."""
