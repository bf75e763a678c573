"""The http actions plugin (webhooks from config) and the runbook ``http`` step kind, over
``httpx.MockTransport``: exact requests, secrets in headers never shown, expected status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from callboard_http import HttpActionsPlugin
from callboard_http.plugin import statuses_text

from console.config import Config
from console.core.model import ActionRequest
from console.core.redact import REDACTOR
from console.core.runbook import parse_runbook
from console.engine.fleet.build import build_fleet
from console.engine.fleet.refresh import Backend
from console.engine.runbooks.executor import Executor
from console.engine.store.sqlite import Store
from console.errors import ActionError, BackendAuthError, BackendUnavailable
from console.plugin_api import PluginContext
from console.yamlload import load_yaml_text

TOKEN = "gw-token-1234567890"
ENDPOINTS = {
    "throttle": {
        "method": "POST",
        "url": "https://gateway.test/limits/{{ service }}",
        "json": {"route": "{{ operation }}", "rps": "{{ params.rps }}", "why": "{{ reason }}"},
        "headers": {"Authorization": {"secret": "gw"}},
        "expect_status": [200, 201],
    },
    "circuit_open": {"method": "PUT", "url": "https://mesh.test/circuits/{{ function_id }}"},
}


@pytest.fixture(autouse=True)
def forget_secrets():
    yield
    REDACTOR.clear()


class Recorder:
    def __init__(self, status: int = 201) -> None:
        self.requests: list[httpx.Request] = []
        self.status = status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json={"ok": self.status < 300})


def plugin(handler: Any) -> HttpActionsPlugin:
    def secret(name: str) -> str:
        REDACTOR.add(TOKEN, name)
        return TOKEN

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return HttpActionsPlugin(
        "gateway", {"endpoints": ENDPOINTS}, PluginContext(client, secret, lambda: 0.0)
    )


async def test_plan_shows_the_request_but_not_the_secret_and_execute_sends_it() -> None:
    rec = Recorder()
    p = plugin(rec)
    assert p.actions == frozenset({"throttle", "circuit_open"})
    req = ActionRequest("throttle", "checkout:POST /pay", {"rps": 50}, "retry storm")
    plan = await p.plan(req)
    assert (
        plan.summary == "throttle checkout:POST /pay via POST https://gateway.test/limits/checkout"
    )
    assert "headers: Authorization" in plan.changes and plan.mutates
    assert TOKEN not in json.dumps([plan.summary, *plan.changes, dict(plan.details)])
    assert rec.requests == []  # planning sends nothing
    result = await p.execute(plan)
    assert result.ok and result.message.endswith("→ 201")
    sent = rec.requests[0]
    assert (sent.method, str(sent.url)) == ("POST", "https://gateway.test/limits/checkout")
    assert sent.headers["Authorization"] == TOKEN
    assert json.loads(sent.content) == {"route": "POST /pay", "rps": 50, "why": "retry storm"}


async def test_unexpected_status_fails_and_auth_and_network_errors_are_typed() -> None:
    req = ActionRequest("circuit_open", "payments:rpc Authorize", {})
    p = plugin(Recorder(500))
    result = await p.execute(await p.plan(req))
    assert not result.ok and "→ 500 (expected 2xx)" in result.message
    p = plugin(Recorder(403))
    with pytest.raises(BackendAuthError):
        await p.execute(await p.plan(req))

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    p = plugin(refuse)
    with pytest.raises(BackendUnavailable):
        await p.execute(await p.plan(req))


async def test_missing_params_and_bad_config_are_clear() -> None:
    p = plugin(Recorder())
    with pytest.raises(ActionError, match=r"placeholder \{\{ params.rps \}\} has no value"):
        await p.plan(ActionRequest("throttle", "checkout:POST /pay", {}))
    with pytest.raises(ActionError, match="no endpoint for action 'rollback'"):
        await p.plan(ActionRequest("rollback", "checkout:POST /pay", {}))
    with pytest.raises(ValueError, match="url: expected an http"):
        HttpActionsPlugin(
            "x", {"endpoints": {"a": {"url": "ftp://x"}}}, PluginContext(None, str, float)
        )


def runbook(text: str):
    data, lines = load_yaml_text(text, "t.yaml")
    return parse_runbook(data, lines, "t.yaml")


async def test_a_runbook_action_goes_through_the_http_plugin(tmp_path: Path) -> None:
    rec = Recorder()
    store = Store(tmp_path / "db")
    fleet = build_fleet(Config.demo_only(), store=store)
    fleet.backends.insert(0, Backend("gateway", "http", plugin(rec)))
    rb = runbook(
        "id: h\ntitle: h\nparams: {rps: {type: float, default: 40}}\nsteps:\n"
        "  - {id: t, kind: action, action: throttle, params: {rps: '{{ rps }}'}}\n"
    )
    run = await Executor(fleet, store, secret=str, poll_every=0).start(
        rb, "checkout:POST /pay", {"rps": 40.0}
    )
    assert run.status == "succeeded"
    assert json.loads(rec.requests[0].content)["rps"] == 40.0


async def test_the_http_step_kind_checks_the_status_and_redacts_secrets(tmp_path: Path) -> None:
    rec = Recorder(202)
    store = Store(tmp_path / "db")
    fleet = build_fleet(Config.demo_only(), store=store)

    def secret(name: str) -> str:
        REDACTOR.add(TOKEN, name)
        return TOKEN

    rb = runbook(
        "id: h\ntitle: h\nsteps:\n"
        "  - id: flag\n    kind: http\n    method: PUT\n    url: 'https://flags.test/{{ function.service }}/{{ secrets.gw }}'\n"
        "    headers: {X-Token: '{{ secrets.gw }}'}\n    json: {enabled: false}\n    expect_status: 202\n"
    )
    client = httpx.AsyncClient(transport=httpx.MockTransport(rec))
    run = await Executor(fleet, store, secret=secret, http=client).start(
        rb, "checkout:POST /pay", {}
    )
    assert run.status == "succeeded"
    sent = rec.requests[0]
    assert sent.headers["X-Token"] == TOKEN and json.loads(sent.content) == {"enabled": False}
    assert run.steps[0].output.startswith("PUT https://flags.test/checkout/«redacted:gw» → 202")
    await client.aclose()


async def test_an_unexpected_error_in_a_plugin_fails_the_step_and_the_run(tmp_path: Path) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("handler bug 42")

    store = Store(tmp_path / "db")
    fleet = build_fleet(Config.demo_only(), store=store)
    fleet.backends.insert(0, Backend("gateway", "http", plugin(broken)))
    rb = runbook(
        "id: h\ntitle: h\nsteps:\n"
        "  - {id: t, kind: action, action: circuit_open}\n"
        "  - {id: n, kind: note, text: after}\n"
    )
    run = await Executor(fleet, store, secret=str, poll_every=0).start(rb, "checkout:POST /pay", {})
    assert run.status == "failed"
    assert [s.status for s in run.steps] == ["failed", "pending"]
    assert "handler bug 42" in run.steps[0].output


async def test_a_function_id_in_a_webhook_url_stays_one_path_segment() -> None:
    rec = Recorder()
    p = plugin(rec)
    plan = await p.plan(ActionRequest("circuit_open", "checkout:POST /pay", {}))
    exact = "https://mesh.test/circuits/checkout%3APOST%20%2Fpay"
    assert f"PUT {exact}" in plan.changes  # the plan shows what will be requested
    await p.execute(plan)
    assert str(rec.requests[0].url) == exact
    assert rec.requests[0].url.raw_path == b"/circuits/checkout%3APOST%20%2Fpay"


async def test_an_http_step_encodes_values_in_path_and_query_and_the_dry_run_shows_it(
    tmp_path: Path,
) -> None:
    rec = Recorder(200)
    store = Store(tmp_path / "db")
    fleet = build_fleet(Config.demo_only(), store=store)
    rb = runbook(
        "id: h\ntitle: h\nparams: {q: {type: string}, n: {type: int}}\nsteps:\n"
        "  - id: get\n    kind: http\n    method: POST\n"
        "    url: 'https://api.test/fn/{{ function.id }}?q={{ q }}&n={{ n }}'\n"
        "    json: {n: '{{ n }}', q: '{{ q }}'}\n"
    )
    params = {"q": "a?admin=1#", "n": 3}
    exact = "https://api.test/fn/checkout%3APOST%20%2Fpay?q=a%3Fadmin%3D1%23&n=3"
    client = httpx.AsyncClient(transport=httpx.MockTransport(rec))
    ex = Executor(fleet, store, secret=str, http=client)
    dry = await ex.start(rb, "checkout:POST /pay", params, dry_run=True)
    assert dry.steps[0].output.startswith(f"POST {exact} json:")
    run = await ex.start(rb, "checkout:POST /pay", params)
    assert run.status == "succeeded"
    sent = rec.requests[0]
    assert str(sent.url) == exact and dict(sent.url.params) == {"q": "a?admin=1#", "n": "3"}
    assert json.loads(sent.content) == {"n": 3, "q": "a?admin=1#"}  # the body keeps types
    await client.aclose()


async def test_the_plan_names_expected_statuses_compactly() -> None:
    p = plugin(Recorder())
    default = await p.plan(ActionRequest("circuit_open", "checkout:POST /pay", {}))
    assert default.changes[-1] == "expects HTTP 2xx"
    listed = await p.plan(ActionRequest("throttle", "checkout:POST /pay", {"rps": 5}))
    assert listed.changes[-1] == "expects HTTP 200, 201"
    assert statuses_text((*range(200, 400), 404, 409, 410, 411)) == "2xx, 3xx, 404, 409–411"


async def test_an_endpoint_that_writes_mutates_whatever_its_config_says() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(Recorder()))
    endpoints = {
        "circuit_close": {"method": "DELETE", "url": "https://mesh.test/c/x", "mutates": False},
        "annotate": {"method": "GET", "url": "https://mesh.test/ping", "mutates": False},
    }
    p = HttpActionsPlugin(
        "mesh", {"endpoints": endpoints}, PluginContext(client, lambda n: "", lambda: 0.0)
    )
    delete = await p.plan(ActionRequest("circuit_close", "checkout:POST /pay", {}, ""))
    get = await p.plan(ActionRequest("annotate", "checkout:POST /pay", {}, ""))
    assert delete.mutates and not get.mutates  # read-only refuses the DELETE, not the GET
    await client.aclose()
