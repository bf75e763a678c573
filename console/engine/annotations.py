"""Posting what happens in an incident to dashboards (Grafana annotations).

Every backend whose plugin offers the ``annotate`` action and says ``auto_annotate`` (the
grafana plugin, unless configured ``auto_annotate: false``) receives incident status
changes and the result of every runbook action taken during an incident. Best effort: a
dashboard that is down never fails the command or the run; the caller gets the errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from console.core.model import ActionRequest


def annotators(backends: Iterable[Any]) -> list[Any]:
    """The backends that want every incident event as an annotation."""
    return [
        b
        for b in backends
        if "annotate" in getattr(b.plugin, "actions", ())
        and getattr(b.plugin, "auto_annotate", False)
    ]


async def annotate(
    backends: Iterable[Any],
    text: str,
    *,
    incident_id: str,
    function_id: str = "",
    tags: Iterable[str] = (),
) -> dict[str, str]:
    """Post ``text`` to every annotator; returns backend name → error for those that failed."""
    errors: dict[str, str] = {}
    params = {"text": text, "incident": incident_id, "tags": ["callboard", *tags]}
    for b in annotators(backends):
        try:
            plan = await b.plugin.plan(ActionRequest("annotate", function_id, params))
            result = await b.plugin.execute(plan)
        except Exception as exc:  # best effort: report, never raise
            errors[b.name] = f"{type(exc).__name__}: {exc}"
            continue
        if not result.ok:
            errors[b.name] = result.message
    return errors
