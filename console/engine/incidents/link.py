"""The one rule that links a runbook run to an incident.

A run on a function that has an open or mitigated incident belongs to it — whether the
incident was opened from the console or the CLI, before the run or while it runs — unless
the operator declined (``--no-incident``), which the run's ``run.started`` event records so
a resume or an undo keeps the choice. ``--incident ID`` names the incident explicitly.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.engine.store.base import StoreLike as Store

__all__ = ["declined", "incident_for", "link_run"]


def incident_for(store: Store, function_id: str) -> str | None:
    """The newest open or mitigated incident whose affected functions include
    ``function_id``; None when there is none."""
    rows = store.query(
        "SELECT id, functions FROM incidents WHERE status IN ('open', 'mitigated')"
        " ORDER BY opened_at DESC, id DESC"
    )
    for row in rows:
        try:
            functions = json.loads(row["functions"] or "[]")
        except ValueError:
            continue
        if isinstance(functions, list) and function_id in functions:
            return str(row["id"])
    return None


def declined(store: Store, run_id: str) -> bool:
    """Whether the operator started run ``run_id`` with ``--no-incident``."""
    rows = store.query(
        "SELECT data FROM events WHERE run_id = ? AND kind = 'run.started' ORDER BY seq LIMIT 1",
        (run_id,),
    )
    if not rows:
        return False
    try:
        data = json.loads(rows[0]["data"] or "{}")
    except ValueError:
        return False
    return bool(isinstance(data, dict) and data.get("no_incident"))


def link_run(store: Store, run_id: str, incident_id: str) -> None:
    """Record that run ``run_id`` belongs to ``incident_id`` (its events export with it)."""
    store.execute(
        "UPDATE runs SET incident_id = ? WHERE id = ? AND incident_id IS NULL",
        (incident_id, run_id),
    )
