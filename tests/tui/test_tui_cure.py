"""After a cure the cursor stays with what still burns; rows whose sort key (as shown) did
not change do not reorder between refreshes."""

from __future__ import annotations

from console.core.model import SLO, Function, Kind, Signals
from console.engine.fleet.refresh import Backend, Fleet
from console.tui.app import CallboardApp
from tests.tui.test_tui import SIZE, keys, settled, table
from tests.tui_helpers import T0

SIZE_SMALL = (140, 20)


class Burning:
    """40 functions; ``paging`` of them time out (f00 worst); the rest are healthy with a
    success rate that wobbles below what the table shows (99.95% either way)."""

    def __init__(self) -> None:
        self.paging = {f"svc:op{i:02d}" for i in range(8)}
        self.calls = 0
        self.fns = [
            Function(
                id=f"svc:op{i:02d}",
                service="svc",
                operation=f"op{i:02d}",
                kind=Kind.HTTP,
                owner="team",
                slo=SLO(objective=0.999),
            )
            for i in range(40)
        ]

    async def functions(self) -> list[Function]:
        return list(self.fns)

    async def signals(self, functions: list[Function], window: str) -> dict[str, Signals]:
        self.calls += 1
        out: dict[str, Signals] = {}
        for i, fn in enumerate(functions):
            if fn.id in self.paging:
                tr = 0.30 - i * 0.02
                out[fn.id] = Signals(
                    rate_rps=100.0,
                    success_rate=1 - tr,
                    p99_ms=900.0,
                    timeout_rate=tr,
                    error_ratio={"5m": tr, "1h": tr, "30m": tr, "6h": tr},
                )
            else:
                noise = 1e-7 * ((i + self.calls) % 3 - 1)  # a different order each refresh
                out[fn.id] = Signals(rate_rps=100.0, success_rate=0.9995 + noise, p99_ms=90.0)
        return out

    async def series(self, *a: object) -> list[tuple[float, float]]:
        return []

    async def aclose(self) -> None:
        return None


def fleet_of(plugin: Burning) -> Fleet:
    return Fleet([Backend("fake", "fake", plugin)], clock=lambda: T0, attempts=1)


async def test_after_a_cure_the_cursor_goes_to_the_worst_row_still_burning() -> None:
    plugin = Burning()
    app = CallboardApp(fleet_of(plugin), refresh_interval=3600)
    async with app.run_test(size=SIZE_SMALL) as pilot:
        await settled(app, pilot)
        assert keys(app)[0] == "svc:op00" and table(app).cursor_key == "svc:op00"
        plugin.paging.discard("svc:op00")  # the rollback cured it
        app.action_refresh_now()
        await settled(app, pilot)
        assert table(app).cursor_key == "svc:op01"  # the worst still burning, not the healed row
        assert table(app).cursor_row == 0 and round(table(app).scroll_y) == 0


async def test_a_row_moved_by_hand_away_from_a_healthy_row_stays() -> None:
    plugin = Burning()
    app = CallboardApp(fleet_of(plugin), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        table(app).move_cursor(row=20)  # a healthy row: no cure, the selection is kept
        chosen = table(app).cursor_key
        app.action_refresh_now()
        await settled(app, pilot)
        assert table(app).cursor_key == chosen


async def test_rows_with_the_same_shown_value_keep_their_order() -> None:
    plugin = Burning()
    app = CallboardApp(fleet_of(plugin), refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        app.sort_by("success")
        await pilot.pause()
        before = keys(app)
        healthy = [k for k in before if k not in plugin.paging]
        assert healthy == sorted(healthy)  # equal 99.95%: by id
        for _ in range(3):
            app.action_refresh_now()
            await settled(app, pilot)
            assert keys(app) == before
