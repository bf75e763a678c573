"""Posting what happens in an incident to dashboards (Grafana annotations).

Every backend whose plugin offers the ``annotate`` action and says ``auto_annotate`` (the
grafana plugin, unless configured ``auto_annotate: false``) receives incident status
changes and the result of every runbook action taken during an incident. Best effort: a
dashboard that is down never fails the command or the run; the caller gets the errors.

Read-only means nothing leaves the machine that changes anything: an annotation is a write
to a dashboard, so under read-only none is posted and each one is reported as refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from console.core.model import ActionRequest

if TYPE_CHECKING:
    from console.engine.incidents import Incident
    from console.engine.store import Store


def annotators(backends: Iterable[Any]) -> list[Any]:
    """The backends that want every incident event as an annotation."""
    return [
        b
        for b in backends
        if "annotate" in getattr(b.plugin, "actions", ())
        and getattr(b.plugin, "auto_annotate", False)
    ]


#: The error an annotator gets under read-only (callers record it as a refusal).
REFUSED = "read-only: annotation not posted"


async def annotate(
    backends: Any,
    text: str,
    *,
    incident_id: str,
    function_id: str = "",
    tags: Iterable[str] = (),
    read_only: bool = False,
) -> dict[str, str]:
    """Post ``text`` to every annotator; returns backend name → error for those that failed.

    Args:
        backends: the fleet (its ``read_only`` is honoured) or its list of backends.
        read_only: post nothing; every annotator gets :data:`REFUSED`.
    """
    read_only = read_only or bool(getattr(backends, "read_only", False))
    backends = getattr(backends, "backends", backends)
    errors: dict[str, str] = {}
    params = {"text": text, "incident": incident_id, "tags": ["callboard", *tags]}
    for b in annotators(backends):
        if read_only:
            errors[b.name] = REFUSED
            continue
        try:
            plan = await b.plugin.plan(ActionRequest("annotate", function_id, params))
            result = await b.plugin.execute(plan)
        except Exception as exc:  # best effort: report, never raise
            errors[b.name] = f"{type(exc).__name__}: {exc}"
            continue
        if not result.ok:
            errors[b.name] = result.message
    return errors


async def annotate_incident(
    store: Store | None, backends: Any, incident: Incident, text: str
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
    from console.engine.events import EventLog

    refused = sorted(k for k, v in errors.items() if v == REFUSED)
    if refused and store is not None:
        event = annotation_refused(refused, REFUSED, text=text)
        EventLog(store).append(event.on(incident_id=incident_id))
