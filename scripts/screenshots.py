"""Regenerate ``screenshots/*.svg`` from the seeded demo fleet on a fixed clock, at 140×45
(and the first screens of the drill again at 80×24, ``*-80x24.svg``).

.venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from console.config import Config
from console.engine.fleet.build import build_fleet
from console.tui.app import CallboardApp

OUT = Path(__file__).resolve().parent.parent / "screenshots"
SIZE = (140, 45)
SMALL = (80, 24)
T0 = 1795726800.0  # 2026-11-26T21:00:00Z, the same instant the snapshot tests use


async def shoot(name: str, *keys: str, size: tuple[int, int] = SIZE) -> None:
    fleet = build_fleet(Config(), demo=True, clock=lambda: T0)
    app = CallboardApp(fleet, refresh_interval=3600, owns_fleet=True)
    async with app.run_test(size=size) as pilot:
        assert app._refresh is not None
        await app._refresh.wait()
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
            await pilot.pause()
            await app.screen.workers.wait_for_complete()
            await pilot.pause()
        for inp in app.query("Input"):
            inp.cursor_blink = False  # type: ignore[attr-defined]
        OUT.mkdir(exist_ok=True)
        app.save_screenshot(f"{name}.svg", path=str(OUT))
        print(OUT / f"{name}.svg")


async def shoot_timeline() -> None:
    """The open incident's timeline (``I``): an incident and a note at fixed times."""
    import tempfile

    from console.engine.incidents.lifecycle import add_note, open_incident
    from console.engine.store.sqlite import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "callboard.db")
        pay = "checkout:POST /pay"
        open_incident(store, "Checkout times out", [pay], "SEV2", at="2026-11-26T20:48:00.000Z")
        add_note(store, "INC-0001", "pg pool exhausted since the deploy",
                 at="2026-11-26T20:52:30.000Z")  # fmt: skip
        fleet = build_fleet(Config(), demo=True, clock=lambda: T0)
        app = CallboardApp(fleet, refresh_interval=3600, owns_fleet=True, store=store)
        async with app.run_test(size=SIZE) as pilot:
            assert app._refresh is not None
            await app._refresh.wait()
            for _ in range(20):  # bounded: the recorder, then the timeline's read
                await app.workers.wait_for_complete()
                await pilot.pause()
                if app.incidents and app.desk is not None and app.desk.recorded:
                    break
            await pilot.press("I")
            for _ in range(20):
                await app.workers.wait_for_complete()
                await pilot.pause()
                if getattr(app.screen, "pm", None) is not None:
                    break
            app.save_screenshot("timeline.svg", path=str(OUT))
            print(OUT / "timeline.svg")
        store.close()


async def shoot_waterfall() -> None:
    """The failing checkout's newest failing trace, on its first error span (``t``, Enter, f)."""
    fleet = build_fleet(Config(), demo=True, clock=lambda: T0)
    app = CallboardApp(fleet, refresh_interval=3600, owns_fleet=True)
    async with app.run_test(size=SIZE) as pilot:
        assert app._refresh is not None
        await app._refresh.wait()
        await pilot.pause()
        app.open_function("checkout:POST /pay")
        for key in ("t", "enter", "f"):  # each screen loads in a worker: wait for it
            await pilot.pause()
            await pilot.press(key)
            await pilot.pause()
            await app.screen.workers.wait_for_complete()
        await pilot.pause()
        app.save_screenshot("waterfall.svg", path=str(OUT))
        print(OUT / "waterfall.svg")


async def main() -> None:
    await shoot("fleet")
    await shoot("filtered", "slash", *"pay", "enter")
    await shoot("function", "enter")
    await shoot("help", "question_mark")
    await shoot("runner", "r", "enter")
    await shoot_timeline()
    await shoot_waterfall()
    await shoot("fleet-80x24", size=SMALL)
    await shoot("function-80x24", "enter", size=SMALL)
    await shoot("runner-80x24", "r", "enter", size=SMALL)


if __name__ == "__main__":
    asyncio.run(main())
