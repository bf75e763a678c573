"""``A`` on a timeline: give a role on the incident to someone, or take it back.

A role name (``commander``, ``comms``, ``ops`` or any safe name) and a handle; an empty
handle unassigns the role. Dismisses ``(role, who)`` (``who`` ``""``: unassign) or None.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from console.core.team import COMMANDER, check_role, clean_handle
from console.tui.dialogs.incident_dialogs import _Dialog

__all__ = ["RoleScreen"]


class RoleScreen(_Dialog[tuple[str, str] | None]):
    """Role and who; Enter in either field assigns."""

    def __init__(self, incident_id: str, roles: Mapping[str, str], me: str) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.roles = dict(roles)
        self.me = me

    def compose(self) -> ComposeResult:
        held = " · ".join(f"{r} {w}" for r, w in sorted(self.roles.items())) or "none yet"
        role = COMMANDER if COMMANDER not in self.roles else ""
        with Vertical():
            yield Static(Text(f"Roles on {self.incident_id}"), classes="dialog-title")
            yield Static(Text(f"held now: {held}"))
            yield Input(role, placeholder="role: commander, comms, ops, …", id="role-name")
            yield Input(
                self.me, placeholder="who (a handle); empty: unassign the role", id="role-who"
            )
            with Horizontal():
                yield Button("Assign", variant="primary", id="role-assign")
                yield Button("Cancel", classes="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#role-assign")
    def _assign(self) -> None:
        try:
            role = check_role(self.query_one("#role-name", Input).value)
        except ValueError as exc:
            self.notify(str(exc), severity="warning", timeout=5, markup=False)
            return
        who = clean_handle(self.query_one("#role-who", Input).value)
        if not who and role not in self.roles:
            self.notify(f"Nobody holds {role}: name someone.", severity="warning", timeout=4)
            return
        self.dismiss((role, who))
