"""An annotation is a plugin call like any other: the backend's timeout and breaker apply."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from console.core.model import ActionPlan, ActionRequest, ActionResult
from console.engine.fleet.backend import Backend
from console.engine.fleet.refresh import Fleet
from console.engine.runbooks.annotations import annotate
from console.errors import BackendUnavailable


class Dashboard:
    """An Annotations backend that hangs, fails or posts, as the test says."""

    auto_annotate = True

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.calls = 0
        self.never = asyncio.Event()

    async def aclose(self) -> None:
        pass

    async def annotate(
        self, text: str, *, incident_id: str, function_id: str, tags: Sequence[str]
    ) -> ActionResult:
        self.calls += 1
        if self.mode == "hang":
            await self.never.wait()
        if self.mode == "down":
            raise BackendUnavailable("cannot connect to http://127.0.0.1:9/")
        plan = ActionPlan(ActionRequest("annotate", function_id, {"text": text}), "dash", text)
        return ActionResult(plan, True, "annotation 1 added")


async def test_a_hanging_dashboard_costs_one_timeout_not_forever() -> None:
    dash = Dashboard("hang")
    fleet = Fleet([Backend("dash", "fake", dash, timeout=0.05)])
    errors = await annotate(fleet, "INC-0001 opened", incident_id="INC-0001")
    assert errors == {"dash": "CallTimeout: timed out after 0.05s"}


async def test_a_dashboard_that_keeps_failing_is_left_alone_by_its_breaker() -> None:
    dash = Dashboard("down")
    fleet = Fleet([Backend("dash", "fake", dash, breaker_threshold=2)])
    for _ in range(3):
        errors = await annotate(fleet, "x", incident_id="INC-0001")
    assert dash.calls == 2  # the third post is not attempted: the circuit is open
    assert errors["dash"].startswith("CircuitOpen: circuit open after 2 failures")
    assert "cannot connect" in errors["dash"]  # the first error is still named


async def test_only_backends_with_the_annotations_capability_are_annotators() -> None:
    dash = Dashboard("ok")
    quiet = Dashboard("ok")
    quiet.auto_annotate = False
    fleet = Fleet([Backend("dash", "fake", dash), Backend("quiet", "fake", quiet)])
    assert await annotate(fleet, "x", incident_id="INC-0001") == {}
    assert (dash.calls, quiet.calls) == (1, 0)
