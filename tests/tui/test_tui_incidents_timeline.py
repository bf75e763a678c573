"""The timeline reads at 80×24 and 140×45: rows wrap at words, times are short, ``enter``
shows the whole event (redacted), ``esc`` closes it, and the other keys still work."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey

from console.core.redact import REDACTOR
from console.engine.incidents.lifecycle import add_note, open_incident
from console.engine.store.events import EventLog
from console.engine.store.sqlite import Store
from console.tui.app import CallboardApp
from console.tui.dialogs.event_detail import EventDetailScreen
from console.tui.screens.timeline import TimelineScreen
from tests.tui.test_tui_incidents import PAY, bar_text, table_rows, until
from tests.tui_helpers import demo_fleet

SECRET = "tl13-hunter2-secret-value"
NOTE = (
    "pg pool exhausted since the deploy of checkout v2.14.0: connections held by the retry "
    "loop in the payment client, rolling back to v2.13.2 and paging the database team now"
)


def seeded(tmp_path: Path) -> Store:
    """An incident opened at 20:48:00 with a long note at 20:52:30 (the fleet's clock is 21:00)."""
    REDACTOR.add(SECRET)
    store = Store(tmp_path / "callboard.db")
    log = EventLog(store, actor="maya")
    open_incident(
        store, "Checkout times out", [PAY], "SEV2", at="2026-11-26T20:48:00.000Z", log=log
    )
    add_note(store, "INC-0001", f"{NOTE} (token {SECRET})", log=log,
             at="2026-11-26T20:52:30.000Z")  # fmt: skip
    return store


async def open_timeline(app: CallboardApp, pilot: Pilot[None]) -> TimelineScreen:
    """Press ``I`` once the incident is open; wait for the note on the timeline."""
    await until(app, pilot, lambda: "INC-0001" in bar_text(app))
    await pilot.press("I")
    await until(app, pilot, lambda: isinstance(app.screen, TimelineScreen)
                and any("pg pool" in r[-1] for r in table_rows(app)))  # fmt: skip
    screen = app.screen
    assert isinstance(screen, TimelineScreen)
    return screen


def note_row(app: CallboardApp) -> list[str]:
    return next(r for r in table_rows(app) if "pg pool" in r[-1])


@pytest.mark.parametrize("size", [(80, 24), (140, 45)])
async def test_rows_wrap_at_word_boundaries_within_the_screen(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=seeded(tmp_path))
    async with app.run_test(size=size) as pilot:
        await open_timeline(app, pilot)
        table: DataTable[Text] = app.screen.query_one(DataTable)
        widths = [c.width + 2 * table.cell_padding for c in table.columns.values()]
        assert sum(widths) <= size[0]  # every column on screen: nothing to scroll sideways to
        summary = note_row(app)[-1]
        lines = summary.split("\n")
        assert len(lines) > 1  # wrapped, not cut
        # no word cut in two: the lines' words are the note's words, in order, all of them
        words = " ".join(lines).split()
        assert " ".join(words).startswith(f"Note: {NOTE}".replace("  ", " "))
        assert "(token " in " ".join(words) and SECRET not in summary  # redacted
        assert all(len(line) <= table.columns[ColumnKey("summary")].width for line in lines)


async def test_times_are_short_relative_and_a_toggles_the_utc_clock(tmp_path: Path) -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=seeded(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_timeline(app, pilot)
        assert note_row(app)[0] == "8 min ago"  # 20:52:30 on a clock at 21:00:00
        assert "12 min ago" in [r[0] for r in table_rows(app)]  # the incident, opened 20:48
        assert all(len(r[0]) <= 14 for r in table_rows(app))
        await pilot.press("a")
        await pilot.pause()
        assert screen.absolute
        assert note_row(app)[0] == "20:52:30"
        assert all(re.fullmatch(r"\d\d:\d\d:\d\d", r[0]) for r in table_rows(app))
        await pilot.press("a")
        await pilot.pause()
        assert note_row(app)[0] == "8 min ago"


async def test_enter_shows_the_whole_event_redacted_and_esc_closes_it(tmp_path: Path) -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=seeded(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_timeline(app, pilot)
        table: DataTable[Text] = screen.query_one(DataTable)
        index = next(i for i, r in enumerate(table_rows(app)) if "pg pool" in r[-1])
        table.move_cursor(row=index)
        await pilot.press("enter")
        await until(app, pilot, lambda: isinstance(app.screen, EventDetailScreen))
        text = str(app.screen.query_one("#event-detail-text", Static).render())
        assert NOTE in " ".join(text.split())  # the full summary, not a cell's width of it
        assert "kind     note" in text and "actor    maya" in text
        assert "incident INC-0001" in text and "run      —" in text
        assert "2026-11-26 20:52:30.000 UTC (8 min ago)" in text
        assert '"text":' in text  # the data, as the JSON export shows it
        assert SECRET not in text and "(token " in text
        await pilot.press("escape")
        await until(app, pilot, lambda: app.screen is screen)
        assert table.cursor_row == index  # back where it was

        # the other keys still work after the detail: f filters, F clears
        for _ in range(len(screen.kinds)):
            if screen.kind == "note":
                break
            await pilot.press("f")
        await pilot.pause()
        assert {r[1] for r in table_rows(app)} == {"note"}
        await pilot.press("F")
        await pilot.pause()
        assert screen.kind is None


async def test_the_footer_offers_detail_help_and_export_at_80_columns(tmp_path: Path) -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=seeded(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await open_timeline(app, pilot)
        shown = {b.binding.key for b in app.screen.active_bindings.values() if b.binding.show}
        assert {"enter", "question_mark", "a", "e"} <= shown


async def test_a_resize_refits_the_rows(tmp_path: Path) -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=seeded(tmp_path))
    async with app.run_test(size=(140, 45)) as pilot:
        await open_timeline(app, pilot)
        assert "function" in [
            str(c.label) for c in app.screen.query_one(DataTable).columns.values()
        ]
        wide = len(note_row(app)[-1].split("\n"))
        await pilot.resize_terminal(80, 24)
        await until(app, pilot, lambda: len(note_row(app)[-1].split("\n")) > wide)
        table: DataTable[Text] = app.screen.query_one(DataTable)
        assert sum(c.width + 2 * table.cell_padding for c in table.columns.values()) <= 80


async def test_the_detail_of_a_hostile_event_paints_inert(tmp_path: Path) -> None:
    """Escapes in an old row (written straight through the engine) do not reach the terminal."""
    from textual.geometry import Region
    from textual.widget import Widget

    from tests.attack.test_attack_escapes import SGR, assert_inert, hostile

    store = seeded(tmp_path)
    add_note(store, "INC-0001", "pg pool " + hostile("rolled back", 31))
    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_timeline(app, pilot)
        table: DataTable[Text] = screen.query_one(DataTable)
        table.move_cursor(row=table.row_count - 1)  # the hostile note, written last
        await pilot.press("enter")
        await until(app, pilot, lambda: isinstance(app.screen, EventDetailScreen))
        await pilot.pause()
        painted = "".join(
            strip.render(app.console)
            for w in app.screen.query(Widget)
            if w.size.area
            for strip in w.render_lines(Region(0, 0, w.size.width, w.size.height))
        )
    assert "pg pool" in painted and "in the future" in painted  # the note, in the detail
    assert_inert(SGR.sub("", painted), "event detail")


def test_wrap_lines_breaks_at_spaces_and_folds_only_words_wider_than_the_column() -> None:
    from rich.cells import cell_len

    from console.tui.screens.timeline_rows import wrap_lines

    assert wrap_lines("p99 4,933 ms is 14.5× baseline 340 ms", 16) == [
        "p99 4,933 ms is", "14.5× baseline", "340 ms"
    ]  # fmt: skip
    assert wrap_lines("a " + "x" * 25 + " b", 10) == ["a", "x" * 10, "x" * 10, "xxxxx b"]
    assert wrap_lines("one\ntwo", 10) == ["one", "two"]
    wide = wrap_lines("支付网关超时 支付网关超时", 8)  # two cells a character
    assert all(cell_len(line) <= 8 for line in wide) and "".join(wide) == "支付网关超时支付网关超时"


async def test_kind_colours_follow_the_theme_and_read_at_aa(tmp_path: Path) -> None:
    from textual.color import Color

    from console.tui.theme_colours import AA, contrast

    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=seeded(tmp_path))
    async with app.run_test(size=(140, 45)) as pilot:
        app.theme = "textual-light"
        await pilot.pause()
        await open_timeline(app, pilot)
        back = Color.parse(app.get_css_variables()["background"])
        table: DataTable[Text] = app.screen.query_one(DataTable)
        coloured = 0
        for i in range(table.row_count):
            kind = table.get_row_at(i)[1]
            if isinstance(kind.style, str) and "#" in kind.style:
                coloured += 1
                colour = Color.parse(kind.style.split()[-1])
                assert contrast(colour, back) >= AA, f"{kind.plain}: {kind.style} on {back.hex}"
        assert coloured  # the note and the finding are coloured


async def test_a_note_written_with_n_is_under_the_cursor_and_on_screen(tmp_path: Path) -> None:
    """At 80×24 the wrapped rows fill the screen: the note just written must not land below
    the fold (the cursor moves to it once the timeline shows it)."""
    from console.tui.dialogs.incident_dialogs import NoteScreen

    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=seeded(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_timeline(app, pilot)
        table = screen.query_one(DataTable)
        for _ in range(6):  # enough wrapped events to push the newest row off the screen
            await pilot.press("n")
            await until(app, pilot, lambda: isinstance(app.screen, NoteScreen))
            await pilot.press(*"filler note that wraps across the narrow column", "enter")
            await until(app, pilot, lambda: isinstance(app.screen, TimelineScreen))
        await pilot.press("n")
        await until(app, pilot, lambda: isinstance(app.screen, NoteScreen))
        await pilot.press(*"rolled back checkout", "enter")
        await until(app, pilot, lambda: any("rolled back checkout" in r[-1]
                                            for r in table_rows(app)))  # fmt: skip
        await pilot.pause()
        assert "rolled back checkout" in table_rows(app)[table.cursor_row][-1]
        region = table.scrollable_content_region
        row_y = sum(table.rows[k].height for k in list(table.rows)[: table.cursor_row])
        assert table.scroll_y <= row_y < table.scroll_y + region.height
