"""Setting a drill up: its plan, its store, its fleet and its first events (no Textual).

:func:`prepare` is everything ``callboard drill`` does before the console opens, in the
order that keeps a bad input from leaving anything behind: the config and the scenario are
checked first, then the drill's store file is claimed and its fleet built on the drill's
clock (the real one, or a headless drill's simulated one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from console.core.timeline import iso_at
from console.engine.drills.plan import DrillPlan, plan_drill
from console.engine.drills.store import begin, claim
from console.engine.store.base import StoreLike
from console.engine.store.events import EventLog
from console.engine.store.sqlite import Store as SqliteStore

if TYPE_CHECKING:
    from console.config import Config
    from console.context import AppContext
    from console.engine.fleet.refresh import Fleet

__all__ = ["DrillSession", "prepare"]


@dataclass
class DrillSession:
    """A drill ready to play: its id, store, fleet, plan and clock."""

    drill_id: str
    path: Path
    store: StoreLike
    fleet: Fleet
    plan: DrillPlan
    started: float
    clock: Callable[[], float]
    context: AppContext
    log: EventLog

    def close(self) -> None:
        self.context.close()


def prepare(
    app: AppContext,
    folder: Path,
    *,
    scenario: str,
    seed: int | None,
    clock: Callable[[], float],
    actor: str | None = None,
    targets: Mapping[str, str] | None = None,
    fleet_config: Callable[[Config, tuple[str, ...], float], Config] | None = None,
    fleet_name: str = "demo",
    runbooks: Mapping[str, Sequence[str]] | None = None,
    delay_s: tuple[float, float] | None = None,
) -> DrillSession:
    """Plan the drill, claim its store and build its fleet (the demo unless ``targets`` and
    ``fleet_config`` describe another, e.g. a replayed incident).

    Raises:
        UserError / ConfigErrors: a bad scenario or config (nothing is created then).
    """
    from console import paths
    from console.context import AppContext
    from console.engine.drills.demo import demo_targets, drill_config
    from console.engine.fleet.build import build_fleet
    from console.engine.runbooks.catalog import runbooks_by_mode

    base = app.config
    by_mode = runbooks_by_mode(paths.runbook_dirs(base.runbook_paths()))
    cures = runbooks or {str(m.value): ids for m, ids in by_mode.items()}
    plan = plan_drill(
        scenario, seed, targets if targets is not None else demo_targets(), cures,
        fleet=fleet_name, **({"delay_s": delay_s} if delay_s is not None else {}),
    )  # fmt: skip
    started = clock()
    config = (fleet_config or drill_config)(base, plan.modes, started + plan.delay_s)
    drill_id, path = claim(folder)
    store = SqliteStore(path)
    context = AppContext(db_path=str(path), _config=config, _store=store)
    try:
        fleet = build_fleet(config, store=store, secrets=app.secrets, clock=clock,
                            runbooks=by_mode)  # fmt: skip
        log = EventLog(store, actor)
        begin(log, drill_id, plan, at=iso_at(started))
    except BaseException:
        context.close()
        path.unlink(missing_ok=True)
        raise
    return DrillSession(drill_id, path, store, fleet, plan, started, clock, context, log)
