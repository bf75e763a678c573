"""What is on fire: the fleet's strip (pages and tickets by team and mode, the fastest burn,
open incidents), group-by-owner with headers in severity order, and page rows that say
why they page."""

from __future__ import annotations

from textual.widgets import Static

from console.core.onfire import key_number, on_fire, team_order
from console.tui.app import CallboardApp
from console.tui.fleetview import is_group
from console.tui.widgets.fire_strip import strip_text
from tests.tui.test_tui import SIZE, keys, settled, table
from tests.tui_helpers import demo_fleet


def strip(app: CallboardApp) -> str:
    return str(app.screen_stack[0].query_one("#fire-strip", Static).render())


async def test_the_strip_says_what_is_burning_by_team_and_mode() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        text = strip(app)
        assert text.startswith(" 8 page · 2 ticket")
        # the team burning 28× comes first, not the alphabet's first
        assert text.index("storefront 2p") < text.index("payments 1p") < text.index("growth 2p")
        assert "fastest checkout:POST /pay 28.5×" in text
        assert "F1 F2 F3 F5 F6 F7 F8 F9 F4 F10" in text  # paging modes first
        assert text.index("fastest") < text.index("storefront")  # the tail is cut first


async def test_group_by_owner_has_headers_in_severity_order() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await pilot.press("g")
        heads = [k for k in keys(app) if is_group(k)]
        names = [table(app).get_cell(k, "id").plain for k in heads]
        assert names[:3] == ["▾ storefront", "▾ payments", "▾ growth"]
        first = heads[0]
        assert table(app).get_cell(first, "modes").plain == "2 page"
        assert table(app).get_cell(first, "burn").plain.strip() == "28.5×"
        # each header is followed by its own team's functions
        rows = keys(app)
        after = rows[rows.index(first) + 1]
        assert app.snapshot is not None
        assert app.snapshot.by_id()[after].function.owner == "storefront"
        # enter on a header opens nothing; the cursor sits on a function by default
        table(app).move_cursor(row=rows.index(first))
        assert table(app).cursor_key is None
        await pilot.press("enter")
        assert app.screen is app.screen_stack[0]


async def test_a_page_row_says_why_it_pages() -> None:
    app = CallboardApp(demo_fleet(), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        # serialization errors do not count against the SLO: the success rate looks fine
        cell = table(app).get_cell("profile:PUT /profile", "modes").plain
        assert cell.startswith("F8 14.2% 400/422")
        cell = table(app).get_cell("payments:rpc Authorize", "modes").plain
        assert cell.startswith("F9 bank-gateway 64.3%")
        # a ticket row keeps its badges
        assert table(app).get_cell("search:serverless query", "modes").plain == "F4"


async def test_tallies_and_team_order_are_pure() -> None:
    fleet = demo_fleet()
    snap = await fleet.refresh()
    fire = on_fire(snap.functions)
    assert (fire.total.pages, fire.total.tickets) == (8, 2)
    assert next(iter(fire.teams)) == "storefront"
    order = team_order(snap.functions)
    assert list(order)[: len(fire.teams)] == list(fire.teams)  # burning teams first
    f8 = next(f for h in snap.functions for f in h.findings if f.mode.value == "F8")
    assert key_number(f8) == "F8 14.2% 400/422"
    await fleet.aclose()


def test_the_strip_names_the_open_incident_right_after_the_counts() -> None:
    class Inc:
        id, status = "INC-0003", "open"

    fire = on_fire(())
    text = strip_text(fire, [Inc(), Inc()]).plain
    assert text == " 0 page · 0 ticket   nothing burning   INC-0003 open +1 open"
