"""The console's state flows one way: the app holds it, screens and widgets watch it.

The structure checks read the source (AST); the Pilot test shows what a user notices: one
refresh reaches every open screen's header, and a pause freezes them all.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

from textual.pilot import Pilot
from textual.screen import Screen

from console.engine.fleet.refresh import Backend, Fleet
from console.tui.app import CallboardApp
from console.tui.screens.function import FunctionScreen
from console.tui.screens.traces import TracesScreen
from console.tui.widgets.status_bar import StatusBar
from tests.tui_helpers import T0, FakeFleetPlugin

TUI = Path(__file__).resolve().parents[2] / "console" / "tui"
PAY = "checkout:POST /pay"


def trees() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(), str(p))) for p in sorted(TUI.rglob("*.py"))]


def base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ast.unparse(node)


def test_no_class_in_the_tui_is_or_inherits_a_mixin() -> None:
    found = [
        f"{path.relative_to(TUI)}:{node.lineno} {node.name}({', '.join(map(base_name, node.bases))})"
        for path, tree in trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and (node.name.endswith("Mixin") or any(base_name(b).endswith("Mixin") for b in node.bases))
    ]
    assert found == []
    classes = {
        node.name: node
        for _p, tree in trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }
    # One base each: the app on its typed state, the state on Textual's App.
    assert [base_name(b) for b in classes["CallboardApp"].bases] == ["ConsoleApp"]
    assert [base_name(b) for b in classes["ConsoleApp"].bases] == ["App"]


def test_nothing_in_the_tui_reaches_up_or_down_with_getattr() -> None:
    """No ``getattr(self.app, …)`` (the app is typed) and no ``getattr(screen, …)`` (the
    app does not walk the screen stack: screens watch its state)."""
    found = []
    for path, tree in trees():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and base_name(node.func) == "getattr"):
                continue
            target = ast.unparse(node.args[0]) if node.args else ""
            if target in ("self.app", "screen"):
                found.append(f"{path.relative_to(TUI)}:{node.lineno} {ast.unparse(node)}")
    assert found == []


def header(screen: Screen[object]) -> str:
    return str(screen.query_one(StatusBar).render())


def clock_text(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S")


async def settled(app: CallboardApp, pilot: Pilot[None]) -> None:
    if app._refresh is not None:
        await app._refresh.wait()
    await pilot.pause()


async def test_one_refresh_reaches_every_open_screen_and_a_pause_freezes_them() -> None:
    now = [T0]
    fleet = Fleet([Backend("fake", "fake", FakeFleetPlugin(12))], clock=lambda: now[0], attempts=1)
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=(140, 40)) as pilot:
        await settled(app, pilot)
        app.open_function(PAY)
        await pilot.pause()
        function = app.screen
        assert isinstance(function, FunctionScreen) and function.health is not None
        app.push_screen(TracesScreen(function.health.function))
        await pilot.pause()
        screens = list(app.screen_stack)
        assert len(screens) == 3
        assert all(f"refreshed {clock_text(T0)}Z" in header(s) for s in screens)

        now[0] = T0 + 65
        app.action_refresh_now()
        await settled(app, pilot)
        assert [f"refreshed {clock_text(T0 + 65)}Z" in header(s) for s in screens] == [True] * 3
        assert function.snapshot is app.snapshot  # the screen's body follows too

        await pilot.press("p")
        await pilot.pause()
        assert all("PAUSED" in header(s) for s in screens)
        now[0] = T0 + 130
        app._refresh = app.refresh_fleet()  # a refresh arrives while paused
        await settled(app, pilot)
        assert app.snapshot is not None and app.snapshot is not function.snapshot
        assert all(f"refreshed {clock_text(T0 + 65)}Z" in header(s) for s in screens)
        await pilot.press("p")  # resume: every screen shows the latest at once
        await pilot.pause()
        assert all(f"refreshed {clock_text(T0 + 130)}Z" in header(s) for s in screens)
        assert function.snapshot is app.snapshot
