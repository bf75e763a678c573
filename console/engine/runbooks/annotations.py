"""Posting what happens in an incident to dashboards (Grafana annotations).

Every backend whose plugin has the ``Annotations`` capability and says ``auto_annotate``
(the grafana plugin, unless configured ``auto_annotate: false``) receives incident status
changes and the result of every runbook action taken during an incident. Best effort: a
dashboard that is down never fails the command or the run; the caller gets the errors.

Read-only means nothing leaves the machine that changes anything: an annotation is a write
to a dashboard, so under read-only none is posted and each one is reported as refused.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from console.engine.fleet import resilience
from console.errors import BackendError
from console.plugin_api import ActionResult, Annotations

if TYPE_CHECKING:
    from console.engine.fleet.backend import Backend
    from console.engine.fleet.refresh import Fleet
    from console.engine.incidents.lifecycle import Incident
    from console.engine.store.base import StoreLike as Store

#: Seconds an annotation may take when it is posted without a fleet (the fleet's default).
DEFAULT_TIMEOUT = 5.0


def annotators(backends: Iterable[Backend]) -> list[Backend]:
    """The backends that want every incident event as an annotation (``Annotations``
    capability, ``auto_annotate`` true)."""
    return [
        b for b in backends if isinstance(b.plugin, Annotations) and b.plugin.auto_annotate is True
    ]


#: The error an annotator gets under read-only (callers record it as a refusal).
REFUSED = "read-only: annotation not posted"


async def annotate(
    backends: Fleet | Iterable[Backend],
    text: str,
    *,
    incident_id: str,
    function_id: str = "",
    tags: Iterable[str] = (),
    read_only: bool = False,
) -> dict[str, str]:
    """Post ``text`` to every annotator; returns backend name → error for those that failed.

    Each post goes through the backend's timeout and its ``annotate`` circuit breaker, as
    every other plugin call does; it is tried once (a second POST would be a duplicate).

    Args:
        backends: the fleet (its ``read_only``, timeout and clock are honoured) or its list
            of backends.
        read_only: post nothing; every annotator gets :data:`REFUSED`.
    """
    from console.engine.fleet.refresh import Fleet

    fleet = backends if isinstance(backends, Fleet) else None
    listed = fleet.backends if fleet is not None else backends
    assert not isinstance(listed, Fleet)
    read_only = read_only or (fleet is not None and fleet.read_only)
    timeout = fleet.timeout if fleet is not None else DEFAULT_TIMEOUT
    clock = fleet.clock if fleet is not None else time.time
    errors: dict[str, str] = {}
    all_tags = ("callboard", *tags)
    for b in annotators(listed):
        if read_only:
            errors[b.name] = REFUSED
            continue
        plugin = b.plugin
        assert isinstance(plugin, Annotations)  # annotators() chose it for that

        async def post(plugin: Annotations = plugin) -> ActionResult:
            return await plugin.annotate(
                text, incident_id=incident_id, function_id=function_id, tags=all_tags
            )

        breaker = b.breaker("annotate", clock)
        try:
            result = await resilience.call(
                post, timeout=b.timeout or timeout, attempts=1, breaker=breaker
            )
        except Exception as exc:  # best effort: report, never raise
            if not isinstance(exc, BackendError):
                breaker.failure(f"{type(exc).__name__}: {exc}")  # a plugin bug counts too
            errors[b.name] = f"{type(exc).__name__}: {exc}"
            continue
        if not result.ok:
            errors[b.name] = result.message
    return errors


async def annotate_incident(
    store: Store | None, backends: Fleet | Iterable[Backend], incident: Incident, text: str
) -> dict[str, str]:
    """Post an incident change (``text``) to every annotator — the one way the CLI and the
    console tell dashboards — and record each read-only refusal on the incident's timeline
    as ``annotation.refused``; returns backend name → error, refusals included."""
    errors = await annotate(
        backends,
        text,
        incident_id=incident.id,
        function_id=incident.functions[0] if incident.functions else "",
        tags=("incident", incident.status),
    )
    record_refusals(store, errors, text, incident_id=incident.id)
    return errors


def record_refusals(
    store: Store | None, errors: Mapping[str, str], text: str, *, incident_id: str
) -> None:
    """Append one ``annotation.refused`` event naming the backends read-only refused."""
    from console.core.events import annotation_refused
    from console.engine.store.events import EventLog

    refused = sorted(k for k, v in errors.items() if v == REFUSED)
    if refused and store is not None:
        event = annotation_refused(refused, REFUSED, text=text)
        EventLog(store).append(event.on(incident_id=incident_id))
