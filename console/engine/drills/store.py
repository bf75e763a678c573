"""Where drills are kept: one SQLite store per drill, ``DRILL-0001.db``, in a drills folder.

A drill never mixes with real incidents: its fleet, runs, incidents and notes live in its
own store (beside the console's database, in ``drills/``). In that store the drill itself
is an incident of kind ``drill``, ``DRILL-0001``: its events (start, injection, screens,
keys, the scorecard) are written on it from the start; its row is written when the drill
ends (resolved), so while it runs no incident list, picker or run link can see it. A drill
whose process died has events and no row: listed as ended ``—``, scored from its events.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from console.core import events as ev
from console.core.drill_score import Scorecard, score
from console.engine.drills.plan import DrillPlan
from console.engine.incidents.lifecycle import Incident, list_incidents
from console.engine.store.base import StoreLike
from console.engine.store.events import Event, EventLog
from console.engine.store.sqlite import Store
from console.errors import UserError

__all__ = [
    "DRILL_RE",
    "begin",
    "claim",
    "drill_events",
    "drill_file",
    "drill_incidents",
    "drills_dir",
    "finish",
    "list_drills",
    "read_drill",
    "trends",
]

DRILL_RE = re.compile(r"^DRILL-(\d{4,9})$")
#: At most this many drills are read for ``--list`` (the newest).
MAX_LISTED = 500
#: A drill's events are read up to this many (a drill is minutes, not days).
MAX_EVENTS = 200_000


def drills_dir(db_path: str | None) -> Path:
    """The drills folder: ``drills/`` beside the console's database file."""
    from console import paths

    path = db_path or os.environ.get("CALLBOARD_DB")
    if path and path != ":memory:":
        return Path(path).expanduser().parent / "drills"
    return paths.data_dir() / "drills"


def _numbers(folder: Path) -> list[int]:
    try:
        names = [p.stem for p in folder.iterdir() if p.suffix == ".db"]
    except FileNotFoundError:
        return []
    return sorted(int(m.group(1)) for n in names if (m := DRILL_RE.match(n)))


def claim(folder: Path) -> tuple[str, Path]:
    """The next drill id and its (new, empty) store file, claimed so no other drill takes it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the drills folder {folder}: {exc.strerror}") from None
    n = (_numbers(folder) or [0])[-1]
    for _ in range(100):  # another drill starting at the same moment takes the next number
        n += 1
        drill_id = f"DRILL-{n:04d}"
        path = folder / f"{drill_id}.db"
        try:
            with path.open("x"):
                return drill_id, path
        except FileExistsError:
            continue
    raise UserError(f"cannot claim a drill file in {folder}")


def drill_file(folder: Path, drill_id: str) -> Path:
    """The store file of ``drill_id``. Raises UserError when there is no such drill."""
    did = drill_id.strip().upper()
    path = folder / f"{did}.db"
    if not DRILL_RE.match(did) or not path.is_file():
        raise UserError(f"no drill {drill_id!r} in {folder} (see `callboard drill --list`)")
    return path


def begin(log: EventLog, drill_id: str, plan: DrillPlan, *, at: str) -> None:
    """Record the drill's start on its incident: what fails (hidden), where, cured by what."""
    fns = list(dict.fromkeys(plan.functions.values()))
    opened = ev.incident_opened(f"Drill {drill_id}", "SEV4", fns, environment="drill")
    started = ev.drill_started(
        plan.scenario, plan.modes, plan.functions, plan.runbooks, seed=plan.seed, fleet=plan.fleet
    )
    log.append_many([e.on(incident_id=drill_id, at=at) for e in (opened, started)])


def finish(
    store: StoreLike, log: EventLog, drill_id: str, reason: str, *, at: str
) -> Scorecard | None:
    """End the drill: score its events, record the scorecard and write its incident row
    (kind ``drill``, resolved) in one transaction. Returns the scorecard."""
    ended_card = score([*drill_events(store), _ending(drill_id, reason, at)])
    if ended_card is None:
        return None
    card = ended_card.to_json()
    modes = ", ".join(ended_card.modes)
    title = f"Drill {drill_id}: {modes} ({ended_card.scenario}) — {ended_card.summary()}"
    with store.transaction() as conn:
        log.write(conn, [
            ev.drill_ended(reason, card).on(incident_id=drill_id, at=at),
            ev.status_changed("open", "resolved").on(incident_id=drill_id, at=at),
        ])  # fmt: skip
        conn.execute(
            "INSERT INTO incidents (id, title, severity, status, functions, opened_at,"
            " mitigated_at, resolved_at, opened_by, environment, kind)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (drill_id, title, "SEV4", "resolved",
             json.dumps(list(dict.fromkeys(ended_card.functions.values()))),
             ended_card.started_at or at, at, at, log.actor, "drill", "drill"),
        )  # fmt: skip
    return ended_card


def _ending(drill_id: str, reason: str, at: str) -> Event:
    """The ``drill.ended`` event as it will be stored (to score before writing it)."""
    e = ev.drill_ended(reason, {})
    return Event(0, "", at, e.kind, "", drill_id, None, None, e.data)


def drill_events(store: StoreLike) -> list[Event]:
    """Every event of a drill store, in chain order (at most ``MAX_EVENTS``)."""
    out: list[Event] = []
    for e in EventLog(store).iter():
        out.append(e)
        if len(out) >= MAX_EVENTS:
            break
    return out


def read_drill(path: Path) -> Scorecard | None:
    """The scorecard of the drill stored at ``path`` (None: not a drill store)."""
    store = Store(path)
    try:
        return score(drill_events(store))
    finally:
        store.close()


def list_drills(folder: Path) -> list[Scorecard]:
    """The newest drills' scorecards, oldest first (a file that is not one is skipped)."""
    cards = []
    for n in _numbers(folder)[-MAX_LISTED:]:
        try:
            card = read_drill(folder / f"DRILL-{n:04d}.db")
        except Exception:  # a damaged drill file must not hide the others
            continue
        if card is not None:
            cards.append(card)
    return cards


def drill_incidents(folder: Path) -> list[Incident]:
    """The drills' own incidents (kind ``drill``), newest first: ``incident list --drills``."""
    out: list[Incident] = []
    for n in reversed(_numbers(folder)[-MAX_LISTED:]):
        store = Store(folder / f"DRILL-{n:04d}.db")
        try:
            out += list_incidents(store, kind="drill")
        except Exception:  # a damaged drill file must not hide the others
            continue
        finally:
            store.close()
    return out


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 1) if known else None


def trends(cards: Sequence[Scorecard]) -> list[dict[str, Any]]:
    """Per person (the actor of the drill's events): how many drills, how many verified,
    the mean times and keys, and the latest drill against the mean of the earlier ones."""
    by: dict[str, list[Scorecard]] = {}
    for c in cards:
        by.setdefault(c.actor, []).append(c)
    out = []
    for actor, mine in sorted(by.items()):
        latest, earlier = mine[-1], mine[:-1]
        before = _mean(c.mitigated_s for c in earlier)
        change = (
            None
            if latest.mitigated_s is None or before is None
            else round(latest.mitigated_s - before, 1)
        )
        out.append({
            "actor": actor,
            "drills": len(mine),
            "verified": sum(1 for c in mine if c.verified),
            "mean_detect_s": _mean(c.detect_s for c in mine),
            "mean_mitigated_s": _mean(c.mitigated_s for c in mine),
            "mean_keys": _mean(float(c.keys) for c in mine),
            "wrong_moves": sum(len(c.wrong_moves) for c in mine),
            "latest": latest.drill,
            "latest_mitigated_s": latest.mitigated_s,
            "latest_vs_earlier_s": change,
        })  # fmt: skip
    return out


def scorecard_rows(card: Scorecard) -> list[tuple[str, str]]:
    """The scorecard as (label, value) rows: the CLI's text and the console's dialog."""
    from console.core.drill_score import fmt_s

    modes = ", ".join(f"{m} on {card.functions.get(m, '?')}" for m in card.modes)
    rows = [
        ("drill", f"{card.drill or '—'} ({card.scenario}, seed {card.seed})"),
        ("failure", modes or "—"),
        ("began", "—" if card.injected_after_s is None
         else f"{fmt_s(card.injected_after_s)} after the start"),
        ("detected", fmt_s(card.detect_s)),
        ("right dry run", fmt_s(card.dry_run_s)),
        ("mitigation verified", fmt_s(card.mitigated_s)),
        ("keys", str(card.keys) + (
            f" ({card.keys_to_mitigate} to mitigate)" if card.keys_to_mitigate is not None else ""
        )),
        ("wrong moves", str(len(card.wrong_moves))),
        ("incident opened", "yes" if card.incident_opened else "no"),
        ("notes", str(card.notes)),
        ("ended", card.ended or "—"),
    ]  # fmt: skip
    rows += [("  wrong", f"{w.runbook} on {w.function_id}: {w.why}") for w in card.wrong_moves]
    return rows
