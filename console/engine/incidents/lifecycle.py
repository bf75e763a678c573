"""Incidents: open, note, mitigate, resolve — and the recorder that fills their timelines.

Every change is an event in the hash-chained log (:mod:`console.engine.store.events`), written in
the same transaction as the incident row it describes. While an incident is open (or
mitigated), :func:`record_snapshot` turns each fleet refresh into timeline events: findings
appearing and clearing, alerts firing and resolving, deploys seen, and a periodic sample of
the affected functions' key signals (the postmortem's error-rate chart is drawn from them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from console.core import events
from console.engine.incidents.recorder import (
    ACTIVE,
    SAMPLE_EVERY_S,
    iso_ms,
    record_snapshot,
    snapshot_signals,
    state_key,
)
from console.engine.store.base import StoreLike as Store
from console.engine.store.events import Event, EventLog, utc_now
from console.errors import UserError

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
STATUSES = ("open", "mitigated", "resolved")
__all__ = [
    "ACTIVE",
    "SAMPLE_EVERY_S",
    "SEVERITIES",
    "STATUSES",
    "Incident",
    "IncidentNotFound",
    "add_note",
    "check_transition",
    "get_incident",
    "iso_ms",
    "list_incidents",
    "mitigate",
    "normalize_severity",
    "open_incident",
    "record_snapshot",
    "resolve",
    "set_status",
    "snapshot_signals",
]


class IncidentNotFound(UserError):
    """No incident has that id."""


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident as stored (times are UTC ISO 8601)."""

    id: str
    title: str
    severity: str
    status: str
    functions: tuple[str, ...]
    opened_at: str
    mitigated_at: str | None
    resolved_at: str | None
    opened_by: str
    environment: str = ""
    #: ``incident``, or ``drill``: a practice run's scorecard (``callboard drill``).
    kind: str = "incident"

    def to_json(self) -> dict[str, Any]:
        """The incident as the JSON contract shows it."""
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "status": self.status,
            "functions": list(self.functions),
            "opened_at": self.opened_at,
            "mitigated_at": self.mitigated_at,
            "resolved_at": self.resolved_at,
            "opened_by": self.opened_by,
            "environment": self.environment,
        }


def _row(r: Any) -> Incident:
    return Incident(
        id=r["id"],
        title=r["title"],
        severity=r["severity"],
        status=r["status"],
        functions=tuple(json.loads(r["functions"] or "[]")),
        opened_at=r["opened_at"],
        mitigated_at=r["mitigated_at"],
        resolved_at=r["resolved_at"],
        opened_by=r["opened_by"],
        environment=r["environment"] or "",
        # sqlite3.Row: `in` looks at the values, keys() at the columns
        kind=(r["kind"] if "kind" in r.keys() else None) or "incident",  # noqa: SIM118
    )


def normalize_severity(value: str) -> str:
    """``sev2``, ``2`` or ``SEV2`` → ``SEV2``. Raises UserError for anything else."""
    text = str(value).strip().upper()
    text = f"SEV{text}" if text.isdigit() else text
    if text not in SEVERITIES:
        raise UserError(f"unknown severity {value!r}: use one of {', '.join(SEVERITIES)}")
    return text


def open_incident(
    store: Store,
    title: str,
    functions: Sequence[str],
    severity: str = "SEV2",
    *,
    environment: str = "",
    signals: Mapping[str, Any] | None = None,
    log: EventLog | None = None,
    at: str | None = None,
) -> Incident:
    """Open a new incident (id ``INC-0001``, ``INC-0002``, ...) and record ``incident.opened``.

    Raises:
        UserError: an empty title, no function, or an unknown severity.
    """
    if not title.strip():
        raise UserError("an incident needs a title (--title)")
    fns = tuple(dict.fromkeys(f for f in functions if f))
    if not fns:
        raise UserError("an incident needs at least one affected function (--function ID)")
    sev = normalize_severity(severity)
    log = log or EventLog(store)
    when = at or utc_now()
    with store.transaction() as conn:
        row = conn.execute(
            "SELECT MAX(CAST(SUBSTR(id, 5) AS INTEGER)) FROM incidents WHERE id LIKE 'INC-%'"
        ).fetchone()
        iid = f"INC-{(row[0] or 0) + 1:04d}"
        conn.execute(
            "INSERT INTO incidents (id, title, severity, status, functions, opened_at,"
            " opened_by, environment) VALUES (?,?,?,?,?,?,?,?)",
            (iid, title.strip(), sev, "open", json.dumps(list(fns)), when, log.actor, environment),
        )
        opened = events.incident_opened(
            title.strip(), sev, fns, environment=environment, signals=signals
        )
        log.write(conn, [opened.on(incident_id=iid, at=when)])
    return get_incident(store, iid)


def get_incident(store: Store, incident_id: str) -> Incident:
    """The incident ``incident_id``. Raises IncidentNotFound (a UserError)."""
    rows = store.query("SELECT * FROM incidents WHERE id = ?", (incident_id.strip().upper(),))
    if not rows:
        raise IncidentNotFound(f"no incident {incident_id!r} (see `callboard incident list`)")
    return _row(rows[0])


def list_incidents(
    store: Store, *, active_only: bool = False, kind: str = "incident"
) -> list[Incident]:
    """Every incident of ``kind``, newest first (only open and mitigated ones with
    ``active_only``). Drills (``kind="drill"``) are left out unless asked for."""
    sql = "SELECT * FROM incidents WHERE kind = ?"
    if active_only:
        sql += " AND status IN ('open', 'mitigated')"
    return [_row(r) for r in store.query(sql + " ORDER BY opened_at DESC, id DESC", (kind,))]


def add_note(
    store: Store,
    incident_id: str,
    text: str,
    *,
    signals: Mapping[str, Any] | None = None,
    log: EventLog | None = None,
    at: str | None = None,
) -> Event:
    """Record a note on the incident's timeline. Raises UserError for an empty note."""
    inc = get_incident(store, incident_id)
    if not text.strip():
        raise UserError("an empty note: say what you saw or did")
    noted = events.note(text.strip(), signals=signals)
    return (log or EventLog(store)).append(noted.on(incident_id=inc.id, at=at))


def mitigate(store: Store, incident_id: str, **kw: Any) -> Incident:
    """open → mitigated (records ``status.changed``)."""
    return set_status(store, incident_id, "mitigated", **kw)


def resolve(store: Store, incident_id: str, **kw: Any) -> Incident:
    """open or mitigated → resolved (records ``status.changed``)."""
    return set_status(store, incident_id, "resolved", **kw)


def check_transition(incident: Incident, status: str) -> None:
    """Raise UserError unless ``status`` is a step forward for ``incident``."""
    if status not in STATUSES[1:]:
        raise UserError(f"unknown status {status!r}: use mitigated or resolved")
    if STATUSES.index(status) <= STATUSES.index(incident.status):
        raise UserError(f"{incident.id} is already {incident.status}; it cannot become {status}")


def set_status(
    store: Store,
    incident_id: str,
    status: str,
    *,
    signals: Mapping[str, Any] | None = None,
    log: EventLog | None = None,
    at: str | None = None,
) -> Incident:
    """Move the incident forward to ``status``; it never goes back.

    Raises:
        UserError: unknown status, or not a step forward (e.g. resolving twice).
    """
    inc = get_incident(store, incident_id)
    check_transition(inc, status)
    log = log or EventLog(store)
    when = at or utc_now()
    changed = events.status_changed(inc.status, status, signals=signals)
    with store.transaction() as conn:
        conn.execute(
            f"UPDATE incidents SET status = ?, {status}_at = ? WHERE id = ?",
            (status, when, inc.id),
        )
        if status == "resolved" and inc.mitigated_at is None:
            conn.execute("UPDATE incidents SET mitigated_at = ? WHERE id = ?", (when, inc.id))
        log.write(conn, [changed.on(incident_id=inc.id, at=when)])
        if status == "resolved":  # the recorder is done with it
            conn.execute("DELETE FROM settings WHERE key = ?", (state_key(inc.id),))
    return get_incident(store, inc.id)
