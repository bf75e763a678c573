"""The runner's offer of an incident before its first real run changes something.

A run recorded in an incident is what the responders, the timeline and the export see. In
production the offer comes before the run (:class:`OfferIncidentScreen`, default yes);
elsewhere the run's first confirmation carries it as its default button, so the one Enter
that approves the step also opens the incident (issue 13: ``i enter`` no longer needed).
"""

from __future__ import annotations

import contextlib
from typing import cast

from textual.screen import Screen

from console.engine.runbooks.confirmation import ConfirmRequest
from console.tui.run_driver import RunDriverScreen

__all__ = ["IncidentOfferDriver"]


class IncidentOfferDriver(RunDriverScreen):
    """A run driver that offers to open an incident once per screen (see the module)."""

    #: Whether opening an incident was offered and answered (only before the first real run).
    _offered = False

    def _no_incident(self) -> bool:
        """Whether incidents are on and none is open on the function (the screen says)."""
        raise NotImplementedError

    def _incident_defaults(self) -> tuple[str, str]:
        """The title and severity an incident opened from here gets (the worst finding)."""
        from console.tui.dialogs.incident_dialogs import default_severity, default_title

        snap = self.app.snapshot
        health = snap.by_id().get(self.function_id) if snap is not None else None
        return default_title(self.function_id, health), default_severity(health)

    def _confirm_offers(self) -> bool:
        """Whether the next real run's confirmation will offer the incident: outside
        production, not answered yet, and a step asks (a ``confirm`` or ``manual`` step)."""
        asks = any(s.confirm or s.kind == "manual" for s in self.runbook.steps)
        return asks and not self._env[1] and not self._offered and self._no_incident()

    async def _confirm(self, request: ConfirmRequest) -> bool:
        """The executor's question. Outside production, on the first real run with no
        incident open, the confirmation itself offers one (its default button): the same
        Enter approves the step and opens the incident, which the run joins before its next
        step (the executor links at each step; the export follows the run either way)."""
        if self.mode != "run" or self._env[1] or self._offered or not self._no_incident():
            return await super()._confirm(request)
        from console.tui.dialogs.confirm import ConfirmScreen

        self._asking(f"Waiting for your confirmation: {request.step}")
        screen = ConfirmScreen(request, offer_incident=True)
        ok = bool(await self.app.push_screen_wait(cast("Screen[object]", screen)))
        self._offered = ok  # answered (with or without one); a refusal offers it again
        if ok and screen.with_incident:
            await self._open_incident(*self._incident_defaults())
        return ok

    async def _open_incident(self, title: str, severity: str) -> None:
        """Open the incident and wait until it is written (its failure is notified by the
        app; the run goes on without it)."""
        desk = self.app.desk
        if desk is None:
            return
        writer = desk.write_incident(self.function_id, title, severity)
        with contextlib.suppress(Exception):
            await writer.wait()
