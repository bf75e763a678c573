"""Replaying a recorded incident: its fleet state rebuilt from its events, as a backend.

:func:`load_timeline` reads an incident's events from a store into a
:class:`~console.engine.replay.timeline.Timeline`; the ``replay`` plugin
(``plugins/callboard_replay``) serves that timeline as a fleet on a replay clock, so the
console (or ``callboard status``) sees the incident's functions, their signals, findings,
alerts and deploys as they were at each moment. :func:`replay_config` is the config that
opens the console on it: read-only (a mutating step is refused; a dry run plans it), in a
non-production environment named after the incident.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.engine.replay.timeline import Timeline, build_timeline
from console.engine.store.sqlite import Store
from console.errors import UserError

if TYPE_CHECKING:
    from console.engine.store.base import StoreLike

__all__ = ["Timeline", "build_timeline", "load_timeline", "replay_config"]


def load_timeline(store: Store, incident_id: str) -> Timeline:
    """The recorded timeline of ``incident_id`` in ``store``.

    Raises:
        IncidentNotFound: no such incident (a UserError).
        UserError: the incident has no recorded moment to replay (no event with signals).
    """
    from console.engine.incidents.export import incident_events
    from console.engine.incidents.lifecycle import get_incident

    incident = get_incident(store, incident_id)
    timeline = build_timeline(
        incident.id, incident.title, incident.functions, incident_events(store, incident.id)
    )
    if timeline.start is None:
        raise UserError(f"incident {incident.id} recorded no signals: nothing to replay")
    return timeline


def replay_config(
    store: StoreLike, incident_id: str, *, speed: float | None = None
) -> dict[str, Any]:
    """The raw config mapping (as YAML would load it) that opens the console on a replay of
    ``incident_id`` as recorded in ``store``: read-only, not production, the embedded OTLP
    receiver off (a replay receives nothing), ``speed`` recorded seconds per second
    (default: as it happened).

    Raises:
        IncidentNotFound: no such incident. UserError: an in-memory store or a team store
            on PostgreSQL (a replay backend opens an SQLite store by its path).
    """
    from console.engine.incidents.lifecycle import get_incident

    if not isinstance(store, Store):
        raise UserError(
            f"a replay reads its incident from an SQLite store file, not {store.location}: "
            "run it with --db FILE on a store that recorded the incident"
        )
    incident = get_incident(store, incident_id)
    if store.path == ":memory:":
        raise UserError("a replay reads its incident from a store file, not an in-memory store")
    backend: dict[str, Any] = {
        "name": "replay",
        "plugin": "replay",
        "incident": incident.id,
        "db": store.path,
    }
    if speed is not None:
        backend["speed"] = speed
    return {
        "environment": {"name": f"replay-{incident.id.lower()}", "production": False},
        "read_only": True,
        "otlp": {"enabled": False},
        "backends": [backend],
    }
