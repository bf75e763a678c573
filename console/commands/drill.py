"""``callboard drill``: practise on a hidden failure, scored from the event log.

    callboard drill [--scenario F3|F1,F9|random] [--seed N]     the console, on a drill
    callboard drill --headless --script FILE                    scripted keys, JSON out
    callboard drill --list [--json]                             past drills, trends per person
    callboard drill --replay INC-0042                           rehearse a recorded incident

Each drill has its own store (``drills/DRILL-0001.db`` beside the database): nothing of it
mixes with real incidents. ``callboard export DRILL-0001`` exports its record.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import click

from console.commands.jsonout import emit_json
from console.context import AppContext
from console.core.drill_score import Scorecard, fmt_s
from console.errors import UserError


def _card_lines(card: Scorecard) -> list[str]:
    from console.engine.drills.store import scorecard_rows

    return [f"{label:<20} {value}" for label, value in scorecard_rows(card)]


def _list(app: AppContext, as_json: bool) -> int:
    from console.engine.drills.store import drills_dir, list_drills, trends

    cards = list_drills(drills_dir(app.db_path))
    people = trends(cards)
    if as_json:
        emit_json({"drills": [c.to_json() for c in cards], "people": people})
        return 0
    if not cards:
        click.echo("no drills yet: `callboard drill` starts one")
        return 0
    click.echo(f"{'drill':<11} {'who':<14} {'started':<20} {'modes':<8} {'detect':>7} "
               f"{'dry run':>7} {'mitigated':>9} {'keys':>4} {'wrong':>5}  ended")  # fmt: skip
    for c in cards:
        click.echo(
            f"{c.drill or '—':<11} {c.actor[:14]:<14} {(c.started_at or '—')[:19]:<20} "
            f"{','.join(c.modes)[:8]:<8} {fmt_s(c.detect_s):>7} {fmt_s(c.dry_run_s):>7} "
            f"{fmt_s(c.mitigated_s):>9} {c.keys:>4} {len(c.wrong_moves):>5}  {c.ended or '—'}"
        )
    click.echo("")
    click.echo("per person (latest drill against the mean of the earlier ones):")
    for p in people:
        change = p["latest_vs_earlier_s"]
        trend = "—" if change is None else f"{'+' if change > 0 else ''}{change:.0f}s"
        click.echo(
            f"  {p['actor']}: {p['drills']} drills, {p['verified']} verified; mean detect "
            f"{fmt_s(p['mean_detect_s'])}, mean mitigated {fmt_s(p['mean_mitigated_s'])}, "
            f"{p['wrong_moves']} wrong moves; latest {fmt_s(p['latest_mitigated_s'])} ({trend})"
        )
    return 0


@click.command()
@click.option("--scenario", metavar="F3|F1,F9|random",
              help="The failure to inject, hidden until the scorecard (default: random; "
              "with --replay, every mode the incident recorded).")  # fmt: skip
@click.option("--seed", type=click.IntRange(1, 2**31), metavar="N",
              help="Seed the choice and the moment of the failure: the same drill again.")  # fmt: skip
@click.option("--list", "list_", is_flag=True, help="Past drills and the trends per person.")
@click.option("--json", "as_json", is_flag=True, help="With --list: print JSON.")
@click.option("--headless", is_flag=True, help="Play --script without a terminal; print the "
              "scorecard as JSON.")  # fmt: skip
@click.option("--script", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              metavar="FILE", help="The keys a headless drill plays (see the README).")  # fmt: skip
@click.option("--replay", "replay", metavar="INC-ID",
              help="Rehearse a recorded incident on a replay of its signals.")  # fmt: skip
@click.option("--actor", metavar="NAME", help="Who is drilling (default: the OS user).")
@click.pass_obj
def drill(
    app: AppContext,
    scenario: str | None,
    seed: int | None,
    list_: bool,
    as_json: bool,
    headless: bool,
    script: Path | None,
    replay: str | None,
    actor: str | None,
) -> int:
    """Practise: a hidden failure on a fresh demo fleet, and a scorecard at the end."""
    if list_:
        return _list(app, as_json)
    if actor is not None:
        from console.core.sanitize import clean_line

        actor = clean_line(actor)[:64] or None  # outside text: one clean line
    if headless != (script is not None):
        raise UserError("--headless and --script FILE go together")
    actions = None
    if script is not None:
        from console.core.drill_script import MAX_BYTES, parse_script

        try:
            with script.open("rb") as f:
                data = f.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                raise UserError(f"{script}: a drill script has at most {MAX_BYTES:,} bytes")
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read the script {script}: {exc}") from None
        actions = parse_script(text, str(script))
    return _play(app, scenario, seed, actions, actor, replay)


def _play(
    app: AppContext,
    scenario: str | None,
    seed: int | None,
    actions: list[Any] | None,
    actor: str | None,
    replay: str | None,
) -> int:
    from console.engine.drills.session import prepare
    from console.engine.drills.store import drills_dir
    from console.engine.store.events import set_event_clock

    if actions is not None:
        from console.tui.drill_play import SimClock

        clock: Any = SimClock(float(int(time.time())))
    else:
        clock = time.time
    kwargs: dict[str, Any] = {}
    if replay is not None:
        from console.engine.drills.replay import replay_drill

        targets, config = replay_drill(app.store, replay)  # "replay is not available": exit 2
        kwargs = {"targets": targets, "fleet_config": config, "fleet_name": f"replay {replay}",
                  "delay_s": (0.0, 0.0)}  # fmt: skip
        scenario = scenario or ",".join(targets)  # the whole outage, as it happened
    session = prepare(
        app, drills_dir(app.db_path), scenario=scenario or "random", seed=seed, clock=clock,
        actor=actor, **kwargs,
    )  # fmt: skip
    was = set_event_clock(clock)
    try:
        card = _run(session, actions, actor)
    finally:
        set_event_clock(was)
        session.close()
    if card is None:
        raise UserError(f"drill {session.drill_id} recorded no scorecard")
    if actions is not None:
        emit_json(card.to_json())
    else:
        click.echo("\n".join(_card_lines(card)))
        click.echo(f"recorded: callboard export {card.drill}")
    return 0


def _run(session: Any, actions: list[Any] | None, actor: str | None) -> Scorecard | None:
    from console.tui.drill import DrillApp

    app = DrillApp(
        session.fleet,
        store=session.store,
        context=session.context,
        drill_id=session.drill_id,
        plan=session.plan,
        started=session.started,
        clock=session.clock,
        refresh_interval=session.context.config.refresh_interval if actions is None else 3600.0,
        run_sleep=session.clock.sleep if actions is not None else None,
        actor=actor,
        owns_fleet=True,
    )
    if actions is None:
        app.run()
        return app.card
    return asyncio.run(_headless(app, session, actions))


async def _headless(app: Any, session: Any, actions: list[Any]) -> Scorecard | None:
    from console.tui.drill_play import play

    async with app.run_test(size=(140, 45)) as pilot:
        await play(app, pilot, session.clock, actions)
        card: Scorecard | None = app.card
    return card


COMMANDS = [drill]
