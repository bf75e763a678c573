"""Alertmanager: alert mapping, attachment, silence plans (MockTransport)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from callboard_alertmanager import AlertmanagerPlugin, parse

from console.core.alerts import attach_alerts
from console.core.model import ActionRequest, Function
from console.errors import ActionError, BadResponse, ConfigError
from console.plugin_api import PluginContext

URL = "http://am.test"
PAY = Function(id="checkout:POST /pay", service="checkout", operation="POST /pay")
CART = Function(id="checkout:GET /cart", service="checkout", operation="GET /cart")


def gettable(labels: dict, state: str = "active", summary: str = "too many 5xx") -> dict:
    return {
        "labels": labels,
        "annotations": {"summary": summary},
        "receivers": [{"name": "null"}],
        "fingerprint": "abc",
        "startsAt": "2026-08-24T10:00:00.123456789Z",
        "updatedAt": "2026-08-24T10:00:01Z",
        "endsAt": "2026-08-24T11:00:00Z",
        "generatorURL": "http://prom/graph",
        "status": {"state": state, "silencedBy": [], "inhibitedBy": []},
    }


EXACT = gettable(
    {
        "alertname": "HighErrorRate",
        "severity": "page",
        "service_name": "checkout",
        "http_route": "/pay",
        "http_request_method": "POST",
    }
)
SERVICE_ONLY = gettable({"alertname": "ServiceDown", "severity": "ticket", "job": "checkout"})


def am(
    handler: Callable[[httpx.Request], httpx.Response], opts: dict | None = None
) -> AlertmanagerPlugin:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    ctx = PluginContext(
        http=http, secret=lambda n: n, clock=lambda: 1_787_572_800.0
    )  # 2026-08-24T12:00Z
    return AlertmanagerPlugin("am", {"url": URL, **(opts or {})}, ctx)


async def test_alerts_mapped_and_filtered_to_active_unsilenced() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[EXACT, SERVICE_ONLY])

    alerts = await am(handler, {"filter": ['team="pay"']}).alerts()
    q = seen[0].url.params
    assert (
        q["active"] == "true"
        and q["silenced"] == "false"
        and q.get_list("filter") == ['team="pay"']
    )
    a = alerts[0]
    assert (a.name, a.severity, a.state, a.since, a.summary) == (
        "HighErrorRate",
        "page",
        "firing",
        "2026-08-24T10:00:00Z",
        "too many 5xx",
    )
    assert a.function_id == "checkout:POST /pay"
    assert alerts[1].function_id is None  # a service-level alert: the engine matches labels
    attached = attach_alerts(alerts, [PAY, CART])
    assert [x.name for x in attached["checkout:POST /pay"]] == ["HighErrorRate", "ServiceDown"]
    assert [x.name for x in attached["checkout:GET /cart"]] == ["ServiceDown"]


async def test_custom_label_map_aliases_service() -> None:
    alert = gettable({"alertname": "X", "app": "checkout"})
    alerts = await am(
        lambda r: httpx.Response(200, json=[alert]), {"label_map": {"service": ["app"]}}
    ).alerts()
    assert alerts[0].labels["service"] == "checkout"
    assert set(attach_alerts(alerts, [PAY, CART])) == {PAY.id, CART.id}


@pytest.mark.parametrize("payload", [{"x": 1}, "nope"])
async def test_bad_payload(payload: object) -> None:
    with pytest.raises(BadResponse):
        await am(lambda r: httpx.Response(200, json=payload)).alerts()


def test_hostile_entries_skipped() -> None:
    out = parse.alerts(
        [None, {"labels": "x"}, {"labels": {"alertname": 1}, "status": "weird", "annotations": []}],
        {},
        "am",
    )
    assert [(a.name, a.state, a.since) for a in out] == [("1", "firing", "")]


async def test_silence_plan_execute_and_undo() -> None:
    posted: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == "/api/v2/alerts":
            return httpx.Response(200, json=[EXACT])
        if request.method == "POST":
            posted.append(json.loads(request.content))
            return httpx.Response(200, json={"silenceID": "s-1"})
        if request.method == "GET":
            return httpx.Response(
                200,
                json={
                    "id": "s-1",
                    "matchers": posted[0]["matchers"],
                    "status": {"state": "active"},
                },
            )
        assert request.method == "DELETE" and request.url.path == "/api/v2/silence/s-1"
        return httpx.Response(200)

    p = am(handler)
    plan = await p.plan(ActionRequest("silence", PAY.id, {"duration": "2h"}, reason="INC-9"))
    assert plan.summary == (
        'silence alerts matching {service_name="checkout", http_route="/pay", '
        'http_request_method="POST"} for 2h'
    )
    assert plan.changes == (
        'create silence {service_name="checkout", http_route="/pay", http_request_method="POST"} '
        "from 2026-08-24T12:00:00.000Z to 2026-08-24T14:00:00.000Z",
    )
    result = await p.execute(plan)
    assert result.details["silence_id"] == "s-1" and posted[0]["comment"] == "INC-9"
    assert posted[0]["createdBy"] == "callboard"
    undo = result.details["undo"]
    unplan = await p.plan(ActionRequest(undo["action"], undo["function_id"], undo["params"]))
    assert "s-1" in unplan.summary and 'service_name="checkout"' in unplan.summary
    assert (await p.execute(unplan)).message == "silence s-1 expired"


async def test_silence_with_explicit_matchers_and_fallback_identity() -> None:
    p = am(lambda r: httpx.Response(200, json=[]))
    plan = await p.plan(
        ActionRequest(
            "silence", PAY.id, {"matchers": ['job=~"check.*"', "env!=dev"], "alertname": "X"}
        )
    )
    assert [parse.show_matcher(m) for m in plan.details["silence"]["matchers"]] == [
        'alertname="X"',
        'job=~"check.*"',
        'env!="dev"',
    ]
    plan2 = await p.plan(ActionRequest("silence", CART.id))
    assert [parse.show_matcher(m) for m in plan2.details["silence"]["matchers"]] == [
        'service_name="checkout"',
        'http_route="/cart"',
        'http_request_method="GET"',
    ]


@pytest.mark.parametrize(
    "request_",
    [
        ActionRequest("silence", PAY.id, {"duration": "30d"}),
        ActionRequest("silence", PAY.id, {"duration": "soon"}),
        ActionRequest("silence", PAY.id, {"matchers": ["???"]}),
        ActionRequest("unsilence", PAY.id, {}),
        ActionRequest("rollback", PAY.id, {}),
    ],
)
async def test_invalid_requests(request_: ActionRequest) -> None:
    with pytest.raises(ActionError):
        await am(lambda r: httpx.Response(200, json=[])).plan(request_)


async def test_expire_failure_is_an_action_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"id": "s-2", "matchers": []})
        return httpx.Response(500, json="silence not found")

    p = am(handler)
    plan = await p.plan(ActionRequest("unsilence", PAY.id, {"silence_id": "s-2"}))
    with pytest.raises(ActionError, match="silence not found"):
        await p.execute(plan)


def test_bad_config() -> None:
    with pytest.raises(ConfigError):
        am(lambda r: httpx.Response(200), {"label_map": {"colour": ["x"]}})
    assert AlertmanagerPlugin.actions == frozenset({"silence", "unsilence"})
