"""A drill on the demo fleet, played headless on a simulated clock (no sleeps, no terminal)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.config import Config, OtlpConfig
from console.context import AppContext
from console.core.drill_script import parse_script
from console.engine.drills.session import DrillSession, prepare
from console.engine.store.events import set_event_clock
from console.tui.drill import DrillApp
from console.tui.drill_play import SimClock, play
from tests.tui_helpers import T0

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts" / "drills"


@pytest.fixture
def clock() -> Iterator[SimClock]:
    """The drill's clock, also the clock of every event written meanwhile (restored after)."""
    sim = SimClock(T0)
    was = set_event_clock(sim)
    yield sim
    set_event_clock(was)


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    context = AppContext(
        db_path=str(tmp_path / "cb.db"), _config=Config(otlp=OtlpConfig(enabled=False))
    )
    yield context
    context.close()


def start(ctx: AppContext, clock: SimClock, scenario: str, *, seed: int = 3,
          actor: str | None = None) -> DrillSession:  # fmt: skip
    folder = Path(str(ctx.db_path)).parent / "drills"
    return prepare(ctx, folder, scenario=scenario, seed=seed, clock=clock, actor=actor)


def drill_app(session: DrillSession, clock: SimClock) -> DrillApp:
    return DrillApp(
        session.fleet, store=session.store, context=session.context, drill_id=session.drill_id,
        plan=session.plan, started=session.started, clock=clock, refresh_interval=3600.0,
        run_sleep=clock.sleep, actor=session.log.actor, owns_fleet=True,
    )  # fmt: skip


async def play_script(session: DrillSession, clock: SimClock, script: str | Path) -> DrillApp:
    """Play ``script`` (a file, or the text itself) on the drill; returns the ended app."""
    text = script.read_text() if isinstance(script, Path) else script
    app = drill_app(session, clock)
    async with app.run_test(size=(140, 45)) as pilot:
        await play(app, pilot, clock, parse_script(text, str(script)[:40]))
    return app
