"""Alertmanager: alert mapping, attachment, silence plans and read-back, alerts that
match no function (MockTransport on API v2 payload shapes)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from callboard_alertmanager import AlertmanagerPlugin, parse
from rich.console import Console

from console.core.alerts import attach_alerts
from console.core.model import ActionRequest, BackendStatus, Function
from console.core.statusjson import snapshot_json
from console.engine.fleet.refresh import Backend, Fleet
from console.errors import ActionError, BadResponse, ConfigError
from console.plugin_api import PluginContext
from console.tui.dialogs.backends import backends_table

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


async def test_alerts_mapped_and_filtered_to_active_silenced_included() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[EXACT, SERVICE_ONLY])

    alerts = await am(handler, {"filter": ['team="pay"']}).alerts()
    q = seen[0].url.params
    # silenced alerts are fetched too: they stay on the function, marked silenced
    assert q["active"] == "true" and "silenced" not in q
    assert q.get_list("filter") == ['team="pay"']
    assert len(seen) == 1  # nothing silenced: no request for the silences
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


async def test_silence_plan_execute_read_back_and_undo() -> None:
    posted: list[dict] = []
    expired: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == "/api/v2/alerts":
            muted = bool(posted) and not expired
            state = {"state": "suppressed", "silencedBy": ["s-1"]} if muted else {}
            return httpx.Response(200, json=[{**EXACT, "status": {**EXACT["status"], **state}}])
        if request.method == "GET" and request.url.path == "/api/v2/silences":
            return httpx.Response(200, json=[{"id": "s-1", **posted[0]}])
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
        expired.append("s-1")
        return httpx.Response(200)

    p = am(handler)
    plan = await p.plan(ActionRequest("silence", PAY.id, {"duration": "2h"}, reason="INC-9"))
    shown = (
        '{alertname="HighErrorRate", service_name="checkout", http_route="/pay", '
        'http_request_method="POST"}'
    )
    assert plan.summary == f"silence alerts matching {shown} for 2h (HighErrorRate)"
    assert plan.changes == (
        f"create silence {shown} from 2026-08-24T12:00:00.000Z to 2026-08-24T14:00:00.000Z",
    )
    result = await p.execute(plan)
    assert result.details["silence_id"] == "s-1" and posted[0]["comment"] == "INC-9"
    assert posted[0]["createdBy"] == "callboard"
    assert result.message == "silence s-1 created: now suppressed HighErrorRate"
    [after] = await p.alerts()
    assert (after.state, after.silenced_until, after.silence_ids) == (
        "silenced",
        "2026-08-24T14:00:00Z",
        ("s-1",),
    )
    undo = result.details["undo"]
    unplan = await p.plan(ActionRequest(undo["action"], undo["function_id"], undo["params"]))
    assert "s-1" in unplan.summary and 'service_name="checkout"' in unplan.summary
    assert (await p.execute(unplan)).message == "silence s-1 expired"
    assert [a.state for a in await p.alerts()] == ["firing"]


PROM_CLIENT = gettable(
    {
        "alertname": "HighErrorRate",
        "severity": "page",
        "job": "checkout",
        "handler": "/pay",
        "method": "POST",
        "instance": "10.0.0.7:8000",
    }
)
SLOTH = gettable(
    {
        "alertname": "CheckoutHighErrorRate",
        "sloth_id": "checkout-requests-availability",
        "sloth_service": "checkout",
        "sloth_slo": "requests-availability",
        "sloth_severity": "page",
    }
)
# Pyrra's generated ErrorBudgetBurn (pyrra slo/rules.go): `slo`, the window pair, the
# selector's equality labels (`job`) or the grouping labels (`handler`, `job`).
PYRRA = gettable(
    {
        "alertname": "ErrorBudgetBurn",
        "severity": "critical",
        "slo": "checkout-pay-errors",
        "long": "1h",
        "short": "5m",
        "exhaustion": "2d",
        "job": "checkout",
        "handler": "/pay",
    }
)


@pytest.mark.parametrize(
    ("payload", "fn", "expected"),
    [
        (
            PROM_CLIENT,
            PAY,
            'alertname="HighErrorRate", job="checkout", handler="/pay", method="POST"',
        ),
        (
            SLOTH,
            CART,
            'alertname="CheckoutHighErrorRate", sloth_service="checkout", '
            'sloth_slo="requests-availability"',
        ),
        (
            PYRRA,
            PAY,
            'alertname="ErrorBudgetBurn", job="checkout", handler="/pay", '
            'slo="checkout-pay-errors"',
        ),
    ],
    ids=["prometheus_client", "sloth", "pyrra"],
)
async def test_default_silence_matches_the_alerts_own_labels(
    payload: dict, fn: Function, expected: str
) -> None:
    """Issue 10 item 4: no Callboard alias (``service=``) in a silence, ever."""
    p = am(lambda r: httpx.Response(200, json=[payload]))
    plan = await p.plan(ActionRequest("silence", fn.id, {"duration": "20m"}))
    matchers = plan.details["silence"]["matchers"]
    assert ", ".join(parse.show_matcher(m) for m in matchers) == expected
    assert expected in plan.summary and "for 20m" in plan.summary
    assert all(m["name"] not in ("service", "operation") for m in matchers)


async def test_sloth_and_pyrra_alerts_attach_to_the_right_functions() -> None:
    p = am(lambda r: httpx.Response(200, json=[SLOTH, PYRRA]))
    attached = attach_alerts(await p.alerts(), [PAY, CART])
    assert [a.name for a in attached[PAY.id]] == ["CheckoutHighErrorRate", "ErrorBudgetBurn"]
    assert [a.name for a in attached[CART.id]] == ["CheckoutHighErrorRate"]
    assert {a.severity for a in attached[PAY.id]} == {"page", "critical"}


@pytest.mark.parametrize(
    "duration",
    ["1200s", "20m", 1200, 1200.0, "1200.0", "1200"],
    ids=["1200s", "20m", "int", "float", "float-text", "int-text"],
)
async def test_duration_param_as_a_duration_or_seconds(duration: object) -> None:
    """Issue 10 item 4: a ``duration`` runbook param failed "not a window: '1200.0'"."""
    p = am(lambda r: httpx.Response(200, json=[EXACT]))
    plan = await p.plan(ActionRequest("silence", PAY.id, {"duration": duration}))
    body = plan.details["silence"]
    assert (body["startsAt"], body["endsAt"]) == (
        "2026-08-24T12:00:00.000Z",
        "2026-08-24T12:20:00.000Z",
    )
    assert plan.summary.endswith("for 20m (HighErrorRate)")


async def test_silence_that_mutes_nothing_says_so() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"silenceID": "s-9"})
        if "filter" in request.url.params:
            return httpx.Response(200, json=[])  # the read-back finds no alert muted
        return httpx.Response(200, json=[EXACT])

    p = am(handler)
    result = await p.execute(await p.plan(ActionRequest("silence", PAY.id)))
    assert result.message == "silence s-9 created, but it suppresses no alert right now"
    assert result.details["suppressed"] == []


async def test_silence_refuses_when_nothing_fires_and_takes_explicit_matchers() -> None:
    p = am(lambda r: httpx.Response(200, json=[EXACT]))
    with pytest.raises(ActionError, match="no alert fires on checkout:GET /cart"):
        await p.plan(ActionRequest("silence", CART.id))
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


async def test_two_alerts_of_one_function_one_silence_each_identity() -> None:
    down = gettable({"alertname": "ServiceDown", "job": "checkout"})
    slow = gettable({**PROM_CLIENT["labels"], "alertname": "HighLatency"})
    p = am(lambda r: httpx.Response(200, json=[PROM_CLIENT, slow, down]))
    plan = await p.plan(ActionRequest("silence", PAY.id))
    assert [[parse.show_matcher(m) for m in b["matchers"]] for b in plan.details["silences"]] == [
        [
            'alertname=~"HighErrorRate|HighLatency"',
            'job="checkout"',
            'handler="/pay"',
            'method="POST"',
        ],
        ['alertname="ServiceDown"', 'job="checkout"'],
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


async def test_a_failed_second_silence_expires_the_first() -> None:
    down = gettable({"alertname": "ServiceDown", "job": "checkout"})
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.method == "POST":
            if calls.count("POST /api/v2/silences") == 2:
                return httpx.Response(400, json="end time can't be in the past")
            return httpx.Response(200, json={"silenceID": "s-1"})
        return httpx.Response(200, json=[PROM_CLIENT, down])

    p = am(handler)
    plan = await p.plan(ActionRequest("silence", PAY.id))
    with pytest.raises(ActionError, match=r"past.*\(expired the 1 already created\)"):
        await p.execute(plan)
    assert calls[-1] == "DELETE /api/v2/silence/s-1"


class Inventory:
    """Two checkout functions (Inventory only)."""

    name = "inv"

    async def check(self) -> BackendStatus:
        return BackendStatus(name=self.name, plugin="fake", ok=True)

    async def aclose(self) -> None:
        pass

    async def functions(self) -> list[Function]:
        return [PAY, CART]


async def test_alerts_that_match_no_function_are_listed_under_their_backend() -> None:
    """Issue 12 item 6: nothing is dropped silently."""
    node = gettable({"alertname": "NodeDown", "instance": "10.0.0.9:9100"})
    other = gettable({"alertname": "HighErrorRate", "job": "billing", "handler": "/charge"})
    disk = gettable({"alertname": "DiskFull", "severity": "ticket", "device": "/dev/sda1"})
    p = am(lambda r: httpx.Response(200, json=[SLOTH, node, other, disk]))
    backends = [
        Backend(name="inv", plugin_name="fake", plugin=Inventory()),
        Backend(name="am", plugin_name="alertmanager", plugin=p),
    ]
    snap = await Fleet(backends, clock=lambda: 1_787_572_800.0, timeout=1.0).refresh()
    doc = snapshot_json(snap)
    assert [(a["backend"], a["name"]) for a in doc["unmatched_alerts"]] == [
        ("am", "DiskFull"),
        ("am", "HighErrorRate"),
        ("am", "NodeDown"),
    ]
    assert doc["unmatched_alerts"][0]["labels"]["device"] == "/dev/sda1"
    assert [a["name"] for f in doc["functions"] for a in f["alerts"]] == [
        "CheckoutHighErrorRate",
        "CheckoutHighErrorRate",
    ]
    console = Console(width=200, record=True)
    console.print(backends_table(snap.backends, snap.unmatched_alerts))
    text = console.export_text()
    assert "3 alerts matched no function: DiskFull {device=/dev/sda1, severity=ticket}" in text
    assert "HighErrorRate {handler=/charge, job=billing}" in text  # no Callboard copies
    row = next(line for line in text.splitlines() if line.strip().startswith("inv"))
    assert "matched no function" not in row
