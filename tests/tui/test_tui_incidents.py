"""Pilot tests: an incident opened, recorded, noted, filtered, exported and resolved in the TUI.

The seeded demo fleet on a fixed clock, with a Store in a temporary directory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import DataTable

from console.engine.incidents.export import incident_events
from console.engine.incidents.lifecycle import get_incident, open_incident
from console.engine.store.sqlite import Store
from console.tui.app import CallboardApp
from console.tui.dialogs.incident_dialogs import (
    ConfirmStatusScreen,
    ExportScreen,
    NoteScreen,
    OpenIncidentScreen,
)
from console.tui.screens.timeline import TimelineScreen
from console.tui.widgets.incident_bar import IncidentBar
from tests.tui_helpers import demo_fleet

SIZE = (140, 45)
PAY = "checkout:POST /pay"


async def until(app: CallboardApp, pilot: Pilot[None], cond: Callable[[], bool]) -> None:
    """Let workers and messages run until ``cond`` holds (bounded: fails after 50 rounds)."""
    for _ in range(50):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if cond():
            return
    raise AssertionError("the TUI never reached the expected state")


def bar_text(app: CallboardApp) -> str:
    bar = app.screen.query_one(IncidentBar)
    return str(bar.render()) if bar.display else ""


def table_rows(app: CallboardApp) -> list[list[str]]:
    table: DataTable[object] = app.screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_open_record_note_filter_export_resolve(tmp_path: Path) -> None:
    store = Store(tmp_path / "callboard.db")
    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=store)
    async with app.run_test(size=SIZE) as pilot:
        await until(app, pilot, lambda: app.snapshot is not None)
        app.open_function(PAY)
        await pilot.pause()
        assert bar_text(app) == ""  # nothing open yet: no bar

        # i: a dialog prefilled from the worst finding; Enter opens the incident
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, OpenIncidentScreen)
        assert app.screen.title_text == f"F1 Timeout on {PAY}"
        await pilot.press("enter")
        await until(app, pilot, lambda: "INC-0001" in bar_text(app))
        text = bar_text(app)
        assert "SEV2" in text and "open" in text and PAY in text
        assert app.screen.query_one(IncidentBar).has_class("-paging")  # SEV2 is red

        # a refresh records the function's findings on the timeline
        app.action_refresh_now()
        await until(app, pilot, lambda: any(
            e.kind == "finding.appeared" for e in incident_events(store, "INC-0001")
        ))  # fmt: skip

        # i again: the open incident's timeline, sorted by time
        await pilot.press("i")
        await until(app, pilot, lambda: isinstance(app.screen, TimelineScreen)
                    and len(table_rows(app)) >= 3)  # fmt: skip
        rows = table_rows(app)
        kinds = [r[1] for r in rows]
        assert "incident.opened" in kinds and "finding.appeared" in kinds
        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        ats = [r.event.at for r in screen.shown_rows()]
        assert ats == sorted(ats) and len(ats) == len(rows)  # the table shows them in order
        assert any("F1 Timeout detected" in r[4] for r in rows)

        # n: a note that appears in the table
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NoteScreen)
        await pilot.press(*"psp latency back to normal", "enter")
        await until(app, pilot, lambda: isinstance(app.screen, TimelineScreen)
                    and any("psp latency back to normal" in r[4] for r in table_rows(app)))  # fmt: skip

        # f: cycle the kind filter until only notes show
        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        for _ in range(len(screen.kinds)):
            if screen.kind == "note":
                break
            await pilot.press("f")
        await pilot.pause()
        assert screen.kind == "note"
        assert {r[1] for r in table_rows(app)} == {"note"}
        await pilot.press("F")
        await pilot.pause()
        assert len(table_rows(app)) == len(screen.pm.timeline if screen.pm else ())

        # e: Markdown at once into the exports folder next to the database (issue 13: no
        # format picker in the way); the toast names the file
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, TimelineScreen)
        path = tmp_path / "exports" / "INC-0001-postmortem.md"
        await until(app, pilot, path.exists)
        md = path.read_text(encoding="utf-8")
        assert "psp latency back to normal" in md and "F1 Timeout detected" in md
        assert "Incident opened" in md
        await until(app, pilot, lambda: any(str(path) in n.message for n in app._notifications))

        # E: the format picker (md, json, html, csv)
        await pilot.press("E")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        await pilot.click("#export-json")
        await until(app, pilot, (tmp_path / "exports" / "INC-0001-postmortem.json").exists)

        # R: resolve after a confirmation (focus starts on Cancel)
        await pilot.press("R")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmStatusScreen)
        await pilot.click("#status-ok")
        await until(app, pilot, lambda: get_incident(store, "INC-0001").status == "resolved")
        await until(app, pilot, lambda: bar_text(app) == "")
        assert any("Status open → resolved" in r[4] for r in table_rows(app))


async def test_fleet_key_without_an_incident_says_so(tmp_path: Path) -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=Store(tmp_path / "c.db"))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(app, pilot, lambda: app.snapshot is not None)
        await pilot.press("I")
        await pilot.pause()
        assert not isinstance(app.screen, TimelineScreen)
        assert any("No open incident" in n.message for n in app._notifications)


async def test_fleet_key_opens_the_open_incidents_timeline(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.db")
    open_incident(store, "Checkout timeouts", [PAY], "SEV3", at="2026-11-26T20:50:00.000Z")
    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=store)
    async with app.run_test(size=SIZE) as pilot:
        await until(app, pilot, lambda: "INC-0001" in bar_text(app))
        assert "SEV3" in bar_text(app) and "10m" in bar_text(app)  # age on the fleet's clock
        assert not app.screen.query_one(IncidentBar).has_class("-paging")  # SEV3: amber
        await pilot.press("I")
        await until(app, pilot, lambda: isinstance(app.screen, TimelineScreen)
                    and "Checkout timeouts" in str(app.screen.query_one("#timeline-info").render()))  # fmt: skip


class FakeDashboard:
    """An annotate backend that records what it is asked to post."""

    name = "dash"
    actions = frozenset({"annotate"})
    auto_annotate = True

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def check(self) -> object:
        from console.core.model import BackendStatus

        return BackendStatus("dash", "fake", ok=True)

    async def aclose(self) -> None:
        pass

    async def annotate(self, text: str, **_: object) -> object:
        from console.core.model import ActionRequest

        return await self.execute(await self.plan(ActionRequest("annotate", "", {"text": text})))

    async def plan(self, request: object) -> object:
        from console.core.model import ActionPlan

        return ActionPlan(request, "dash", "post an annotation")  # type: ignore[arg-type]

    async def execute(self, plan: object) -> object:
        from console.core.model import ActionResult

        self.texts.append(plan.request.params["text"])  # type: ignore[attr-defined]
        return ActionResult(plan, True, "posted")  # type: ignore[arg-type]


async def test_incident_changes_from_the_console_reach_the_dashboards(tmp_path: Path) -> None:
    from console.engine.fleet.refresh import Backend

    store = Store(tmp_path / "callboard.db")
    fleet = demo_fleet()
    dash = FakeDashboard()
    fleet.backends.append(Backend("dash", "fake", dash))
    app = CallboardApp(fleet, refresh_interval=3600, store=store)
    async with app.run_test(size=SIZE) as pilot:
        await until(app, pilot, lambda: app.snapshot is not None)
        app.open_function(PAY)
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("enter")
        await until(app, pilot, lambda: bool(dash.texts))
        assert dash.texts[0].startswith("INC-0001 opened (SEV2)")


async def test_function_screen_I_opens_the_timeline_the_bar_offers(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.db")
    open_incident(store, "Checkout timeouts", [PAY], "SEV3", at="2026-11-26T20:50:00.000Z")
    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=store)
    async with app.run_test(size=SIZE) as pilot:
        await until(app, pilot, lambda: app.snapshot is not None and bool(app.incidents))
        app.open_function("cart:GET /cart")  # another function: the bar still shows it
        await until(app, pilot, lambda: "I: timeline" in bar_text(app))
        await pilot.press("I")
        await until(app, pilot, lambda: isinstance(app.screen, TimelineScreen))
        assert isinstance(app.screen, TimelineScreen) and app.screen.incident_id == "INC-0001"
