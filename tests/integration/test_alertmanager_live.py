"""Silences against the real Alertmanager 0.25, on the alerts real rule sets produce.

Alerts are POSTed straight to Alertmanager's ``/api/v2/alerts`` (what Prometheus does), with
prometheus_client-style labels (``job``, ``handler``, ``method``) and with Sloth's generated
labels (``sloth_service``, ``sloth_slo``, ``sloth_id``). The silence of the plugin's default
plan must actually mute the real alert (read back from Alertmanager, not from Callboard),
the function must show it as silenced, and the undo must expire it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from callboard_alertmanager import AlertmanagerPlugin

from console.core.model import ActionRequest
from console.plugin_api import PluginContext
from tests.integration import servers
from tests.integration.conftest import need

pytestmark = pytest.mark.integration

PROM_CLIENT = {
    "alertname": "HighErrorRate",
    "severity": "page",
    "job": "checkout",
    "handler": "/pay",
    "method": "POST",
    "instance": "127.0.0.1:8000",
}
#: Same rule, another handler: a silence of /pay must leave it alone.
NEIGHBOUR = {**PROM_CLIENT, "handler": "/cart", "method": "GET"}
SLOTH = {
    "alertname": "BillingRequestsAvailabilityBurn",
    "sloth_id": "billing-requests-availability",
    "sloth_service": "billing",
    "sloth_slo": "requests-availability",
    "sloth_severity": "page",
}
FUNCTIONS = """\
- {service: checkout, operation: POST /pay}
- {service: checkout, operation: GET /cart}
- {service: billing, operation: POST /charge}
"""


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture(scope="module")
def am_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Alertmanager with the three alerts firing."""
    need(servers.ALERTMANAGER)
    with servers.alertmanager(tmp_path_factory.mktemp("am-live")) as am:
        now = time.time()
        alerts = [
            {
                "labels": labels,
                "annotations": {"summary": "error budget burning"},
                "startsAt": _iso(now - 60),
                "endsAt": _iso(now + 3600),
            }
            for labels in (PROM_CLIENT, NEIGHBOUR, SLOTH)
        ]
        httpx.post(am.url + "/api/v2/alerts", json=alerts, timeout=5.0).raise_for_status()
        servers.wait_until(lambda: len(_alerts(am.url)) == 3, 10, "3 alerts in Alertmanager")
        yield am.url


def _alerts(url: str) -> list[dict[str, Any]]:
    got = httpx.get(url + "/api/v2/alerts", timeout=2.0).json()
    assert isinstance(got, list)
    return got


def _status_of(url: str, labels: dict[str, str]) -> dict[str, Any]:
    """Alertmanager's own status of the alert with exactly these labels."""
    found = [a for a in _alerts(url) if a["labels"] == labels]
    assert len(found) == 1, found
    status = found[0]["status"]
    assert isinstance(status, dict)
    return status


def status_json(tmp: Path, am_url: str) -> dict[str, Any]:
    """``callboard status --json`` with a function list and the real Alertmanager."""
    (tmp / "functions.yaml").write_text(FUNCTIONS)
    cfg = {
        "backends": [
            {"name": "am", "plugin": "alertmanager", "url": am_url},
            {"name": "catalog", "plugin": "catalog", "path": [str(tmp / "functions.yaml")]},
        ]
    }
    (tmp / "config.yaml").write_text(json.dumps(cfg))
    argv = [sys.executable, "-m", "console.cli", "--config", str(tmp / "config.yaml")]
    argv += ["--db", str(tmp / "cb.db"), "status", "--json"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert proc.stdout, proc.stderr
    doc = json.loads(proc.stdout)
    assert isinstance(doc, dict)
    return doc


def alerts_on(doc: dict[str, Any], fid: str) -> list[dict[str, Any]]:
    fn = next(f for f in doc["functions"] if f["id"] == fid)
    alerts = fn["alerts"]
    assert isinstance(alerts, list)
    return alerts


@pytest.mark.parametrize(
    ("fid", "labels", "matchers"),
    [
        (
            "checkout:POST /pay",
            PROM_CLIENT,
            'alertname="HighErrorRate", job="checkout", handler="/pay", method="POST"',
        ),
        (
            "billing:POST /charge",
            SLOTH,
            'alertname="BillingRequestsAvailabilityBurn", sloth_service="billing",'
            ' sloth_slo="requests-availability"',
        ),
    ],
    ids=["prometheus_client", "sloth"],
)
async def test_default_silence_mutes_the_real_alert_shows_silenced_and_undo_expires(
    am_url: str, tmp_path: Path, fid: str, labels: dict[str, str], matchers: str
) -> None:
    async with httpx.AsyncClient() as http:
        am = AlertmanagerPlugin(
            "am", {"url": am_url}, PluginContext(http=http, secret=lambda n: n, clock=time.time)
        )
        plan = await am.plan(ActionRequest("silence", fid, {"duration": "1200s"}, reason="INC-7"))
        assert f"{{{matchers}}} for 20m" in plan.summary
        result = await am.execute(plan)
        sid = result.details["silence_id"]
        assert result.message == f"silence {sid} created: now suppressed {labels['alertname']}"

        # Alertmanager itself says the real alert is muted by that silence...
        status = _status_of(am_url, labels)
        assert status["state"] == "suppressed" and status["silencedBy"] == [sid]
        # ...and only that alert: the same rule on another handler still fires.
        assert _status_of(am_url, NEIGHBOUR)["silencedBy"] == []

        doc = status_json(tmp_path, am_url)
        [shown] = [a for a in alerts_on(doc, fid) if a["name"] == labels["alertname"]]
        assert shown["state"] == "silenced" and shown["silence_ids"] == [sid]
        ends = httpx.get(f"{am_url}/api/v2/silence/{sid}", timeout=2.0).json()["endsAt"]
        assert shown["silenced_until"] == ends[:19] + "Z"

        undo = result.details["undo"]
        unplan = await am.plan(ActionRequest(undo["action"], undo["function_id"], undo["params"]))
        assert (await am.execute(unplan)).ok
        got = httpx.get(f"{am_url}/api/v2/silence/{sid}", timeout=2.0).json()
        assert got["status"]["state"] == "expired"
        assert _status_of(am_url, labels) == {
            "state": "active",
            "silencedBy": [],
            "inhibitedBy": [],
        }
        [back] = [
            a for a in await am.alerts() if all(a.labels.get(k) == v for k, v in labels.items())
        ]
        assert (back.state, back.silenced_until, back.silence_ids) == ("firing", None, ())
