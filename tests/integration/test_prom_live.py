"""The prometheus, alertmanager and catalog plugins against real servers.

Numbers come from the instrumented app, whose counters grow at exactly the configured
rates, so ``status --json`` must show them within tight tolerances.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from callboard_alertmanager import AlertmanagerPlugin
from callboard_prometheus import PrometheusPlugin

from console.core.model import ActionRequest
from console.errors import BackendUnavailable, BadResponse
from console.plugin_api import PluginContext
from tests.integration import instrumented_app as app
from tests.integration import servers
from tests.integration.conftest import Stack

pytestmark = pytest.mark.integration

PROM_OPTS = {"scrape_interval": "1s", "rate_window": "4s"}

CATALOG_INFO = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  annotations:
    runbook_url: https://runbooks.example/checkout
    pagerduty.com/service-id: PX1234
spec: {type: service, owner: group:default/payments, lifecycle: production, system: shop,
       dependsOn: ["component:api"]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: auth}
spec: {type: service, owner: identity, lifecycle: production}
"""
FUNCTION_LIST = "- {service: api, owner: platform, tier: 1}\n"


def ctx(http: httpx.AsyncClient) -> PluginContext:
    return PluginContext(http=http, secret=lambda n: n, clock=time.time)


def write_config(tmp: Path, stack: Stack, prom_url: str | None = None) -> Path:
    (tmp / "catalog-info.yaml").write_text(CATALOG_INFO)
    (tmp / "functions.yaml").write_text(FUNCTION_LIST)
    cfg = {
        "backends": [
            {
                "name": "prom",
                "plugin": "prometheus",
                "url": prom_url or stack.prometheus,
                **PROM_OPTS,
                # these tests check numbers, not speed: 500 functions' queries took > 5 s on a
                # loaded 2-core box (README: give such a backend a longer timeout)
                "timeout": "30s",
            },
            {"name": "am", "plugin": "alertmanager", "url": stack.alertmanager},
            {
                "name": "catalog",
                "plugin": "catalog",
                "path": [str(tmp / "catalog-info.yaml"), str(tmp / "functions.yaml")],
            },
        ]
    }
    path = tmp / "config.yaml"
    path.write_text(json.dumps(cfg))  # JSON is YAML
    return path


def status_json(config: Path, tmp: Path) -> tuple[int, dict[str, Any]]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "console.cli",
            "--config",
            str(config),
            "--db",
            str(tmp / "cb.db"),
            "status",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def status(firing: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("status")
    rc, doc = status_json(write_config(tmp, firing), tmp)
    assert rc == 0, doc["backends"]
    return doc


def fn(doc: dict[str, Any], fid: str) -> dict[str, Any]:
    return next(f for f in doc["functions"] if f["id"] == fid)


def test_backends_ok_and_every_function_discovered(status: dict[str, Any]) -> None:
    mine = {b["name"]: (b["ok"], b["error"]) for b in status["backends"]}
    assert {k: mine.get(k) for k in ("prom", "am", "catalog")} == dict.fromkeys(
        ("prom", "am", "catalog"), (True, None)
    )
    ids = {f["id"] for f in status["functions"]}
    for f in ("checkout:POST /pay", "checkout:GET /cart", "search:GET /query", "app:GET /health"):
        assert f in ids
    assert len(ids) == 6 + 495


def test_known_rates_and_latencies(status: dict[str, Any]) -> None:
    pay = fn(status, "checkout:POST /pay")["signals"]
    assert pay["rate_rps"] == pytest.approx(10.0, rel=0.05)
    assert pay["success_rate"] == pytest.approx(0.95, abs=1e-4)
    assert pay["error_5xx_rate"] == pytest.approx(0.05, abs=1e-4)
    assert pay["throttle_rate"] == pytest.approx(0.0, abs=1e-9)
    for q, key in ((0.5, "p50_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")):
        assert pay[key] == pytest.approx(app.expected_quantile(q) * 1000, rel=0.01)
    assert pay["burn_rate_5m"] == pytest.approx(50.0, rel=0.01)  # 5% errors / 0.1% budget
    burn = fn(status, "checkout:POST /pay")["burn"]
    # A 50× burn pages, unless the long window still holds under 100 requests (the guard):
    # which one depends on how long this session's Prometheus has scraped, so either holds.
    assert burn["page"] or burn["low_traffic"]
    health = fn(status, "app:GET /health")["signals"]
    assert health["rate_rps"] == pytest.approx(2.0, rel=0.05)


def test_zero_error_function_is_fully_successful(status: dict[str, Any]) -> None:
    cart = fn(status, "checkout:GET /cart")["signals"]
    assert cart["success_rate"] == 1.0
    assert cart["error_5xx_rate"] == 0.0
    assert cart["auth_error_rate"] == 0.0
    assert cart["rate_rps"] == pytest.approx(4.0, rel=0.05)


def test_zero_traffic_function_has_no_success_or_latency(status: dict[str, Any]) -> None:
    query = fn(status, "search:GET /query")["signals"]
    assert query["rate_rps"] == 0.0
    assert query["success_rate"] is None
    assert query["p99_ms"] is None and query["p50_ms"] is None
    assert query["error_5xx_rate"] is None


def test_throttling_and_auth_findings(status: dict[str, Any]) -> None:
    orders = fn(status, "api:POST /orders")
    assert orders["signals"]["throttle_rate"] == pytest.approx(0.2, abs=1e-4)
    assert orders["signals"]["success_rate"] == pytest.approx(1.0, abs=1e-4)  # 429s not counted
    assert "F2" in [f["mode"] for f in orders["findings"]]
    token = fn(status, "auth:GET /token")
    assert token["signals"]["auth_error_rate"] == pytest.approx(0.3, abs=1e-4)
    assert "F6" in [f["mode"] for f in token["findings"]]


def test_firing_alert_on_the_right_function(status: dict[str, Any]) -> None:
    alerts = fn(status, "checkout:POST /pay")["alerts"]
    assert [(a["name"], a["severity"], a["state"]) for a in alerts] == [
        ("HighErrorRate", "page", "firing")
    ]
    assert alerts[0]["summary"] == "more than 2% of requests fail with 5xx"
    assert alerts[0]["since"].endswith("Z")
    assert fn(status, "checkout:GET /cart")["alerts"] == []


def test_catalog_owners_merged(status: dict[str, Any]) -> None:
    assert fn(status, "checkout:POST /pay")["owner"] == "payments"
    assert fn(status, "checkout:GET /cart")["owner"] == "payments"
    assert fn(status, "auth:GET /token")["owner"] == "identity"
    orders = fn(status, "api:POST /orders")
    assert (orders["owner"], orders["tier"]) == ("platform", 1)
    assert "checkout" not in {f["id"] for f in status["functions"]}  # merged, not listed


async def test_requests_per_refresh_do_not_grow_with_functions(stack: Stack) -> None:
    sent: list[str] = []

    async def count(request: httpx.Request) -> None:
        sent.append(request.url.path)

    async with httpx.AsyncClient(event_hooks={"request": [count]}, timeout=30) as http:
        plugin = PrometheusPlugin("prom", {"url": stack.prometheus, **PROM_OPTS}, ctx(http))
        functions = await plugin.functions()
        assert len(functions) >= 500
        counts = []
        for n in (5, 500):
            sent.clear()
            signals = await plugin.signals(functions[:n], "5m")
            assert len(signals) == n
            counts.append(len(sent))
            assert all(p == "/api/v1/query" for p in sent)
    assert counts[0] == counts[1] == 3


async def test_series_via_query_range(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        plugin = PrometheusPlugin("prom", {"url": stack.prometheus, **PROM_OPTS}, ctx(http))
        pay = next(f for f in await plugin.functions() if f.id == "checkout:POST /pay")
        now = time.time()
        err = await plugin.series(pay, "error_rate", now - 5, now, 1.0)
        assert err and all(v == pytest.approx(0.05, abs=1e-6) for _, v in err)
        assert await plugin.series(pay, "no_such_signal", now - 5, now, 1.0) == []


async def test_silence_and_undo(firing: Stack) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        am = AlertmanagerPlugin("am", {"url": firing.alertmanager}, ctx(http))
        req = ActionRequest("silence", "checkout:POST /pay", {"duration": "1h"}, reason="INC-1")
        plan = await am.plan(req)
        assert 'service_name="checkout"' in plan.summary and 'http_route="/pay"' in plan.summary
        body = plan.details["silence"]
        assert body["endsAt"] > body["startsAt"]
        result = await am.execute(plan)
        sid = result.details["silence_id"]
        on_pay = [a for a in await am.alerts() if a.function_id == "checkout:POST /pay"]
        assert on_pay and all(a.state == "silenced" and a.silence_ids == (sid,) for a in on_pay)
        undo = result.details["undo"]
        unplan = await am.plan(ActionRequest(undo["action"], undo["function_id"], undo["params"]))
        assert (await am.execute(unplan)).ok
        got = httpx.get(f"{firing.alertmanager}/api/v2/silence/{sid}").json()
        assert got["status"]["state"] == "expired"


def test_stopped_server_is_reported_not_crashed(stack: Stack, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{servers.free_port()}"
    rc, doc = status_json(write_config(tmp_path, stack, prom_url=dead), tmp_path)
    assert rc == 1
    by_name = {b["name"]: b for b in doc["backends"]}
    assert by_name["prom"]["ok"] is False and "connection refused" in by_name["prom"]["error"]
    assert by_name["am"]["ok"] is True


async def test_bad_custom_query_is_a_typed_error(stack: Stack) -> None:
    opts = {
        "url": stack.prometheus,
        "preset": "custom",
        "labels": {"service": ["job"]},
        "queries": {"requests": "sum by ($by) (rate(nope[$window])"},
    }
    async with httpx.AsyncClient(timeout=30) as http:
        plugin = PrometheusPlugin("prom", opts, ctx(http))
        with pytest.raises(BadResponse, match=r"parse error|unclosed|bad_data"):
            await plugin.signals([], "5m")


async def test_check_live_and_refused(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        ok = await PrometheusPlugin("p", {"url": stack.prometheus}, ctx(http)).check()
        assert ok.ok and ok.latency_ms is not None
        dead = PrometheusPlugin("p", {"url": f"http://127.0.0.1:{servers.free_port()}"}, ctx(http))
        bad = await dead.check()
        assert not bad.ok and "connection refused" in (bad.error or "")
        with pytest.raises(BackendUnavailable):
            await dead.functions()
