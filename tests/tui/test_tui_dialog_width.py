"""The incident dialogs (note, open, roles) fit an 80-column terminal: their box was 84
columns wide, so at 80×24 its right border and the end of every input were cut off."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.containers import Vertical

from console.tui.dialogs.role_dialog import RoleScreen


@pytest.mark.parametrize("size", [(80, 24), (140, 45)])
async def test_the_roles_dialog_fits_the_terminal(size: tuple[int, int]) -> None:
    app: App[None] = App()
    async with app.run_test(size=size) as pilot:
        await app.push_screen(RoleScreen("INC-0001", {"commander": "maya@laptop"}, "ali@desk"))
        await pilot.pause()
        box = app.screen.query_one(Vertical).region
        assert box.x >= 0 and box.right <= size[0], box
