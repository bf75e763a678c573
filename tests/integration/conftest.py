"""Server fixtures: one Prometheus + Alertmanager + instrumented app stack per session.

A missing binary skips these tests locally and fails them in CI (``CI=true``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.integration import instrumented_app as app
from tests.integration import servers

#: The main app's functions: known rates, error mixes and latencies.
FUNCTIONS: tuple[app.AppFunction, ...] = (
    app.AppFunction("checkout", "POST", "/pay", 10.0, {"200": 0.95, "500": 0.05}),
    app.AppFunction("checkout", "GET", "/cart", 4.0),  # zero errors
    app.AppFunction("search", "GET", "/query", 0.0),  # zero traffic
    app.AppFunction("api", "POST", "/orders", 8.0, {"200": 0.8, "429": 0.2}),  # F2
    app.AppFunction("auth", "GET", "/token", 5.0, {"200": 0.7, "401": 0.3}),  # F6
    app.AppFunction(None, "GET", "/health", 2.0),  # no service_name: service from job
)
BULK = 495  # with FUNCTIONS: 501 functions in Prometheus


@dataclass
class Stack:
    """URLs of the running servers."""

    prometheus: str
    alertmanager: str
    workdir: Path


def need(binary: str) -> str:
    """The binary's path; skip (locally) or fail (CI) when it is missing."""
    path = servers.find_binary(binary)
    if path is None:
        reason = f"{binary} is not installed (Debian: apt-get install prometheus prometheus-alertmanager)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def _has_data(url: str) -> bool:
    """Every target scraped at least 6 times in the last 10s (4s rate windows are full)."""
    q = "min(count_over_time(up[10s]))"
    r = httpx.post(url + "/api/v1/query", data={"query": q}, timeout=2.0).json()
    result = r["data"]["result"]
    return bool(result) and float(result[0]["value"][1]) >= 6


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Alertmanager, two instrumented apps (6 + 495 functions) and Prometheus scraping them."""
    need(servers.PROMETHEUS)
    need(servers.ALERTMANAGER)
    work = tmp_path_factory.mktemp("stack")
    with ExitStack() as es:
        am = es.enter_context(servers.alertmanager(work / "am"))
        main_target = es.enter_context(app.serve(FUNCTIONS))
        bulk_target = es.enter_context(app.serve(app.bulk(BULK)))
        am_hostport = am.url.removeprefix("http://")
        prom = es.enter_context(
            servers.prometheus(work / "prom", [main_target, bulk_target], alertmanager=am_hostport)
        )
        servers.wait_until(lambda: _has_data(prom.url), 30, "6 scrapes of every target")
        yield Stack(prom.url, am.url, work)


@pytest.fixture(scope="session")
def firing(stack: Stack) -> Stack:
    """The stack once Alertmanager has received HighErrorRate from Prometheus."""

    def arrived() -> bool:
        alerts = httpx.get(stack.alertmanager + "/api/v2/alerts", timeout=2.0).json()
        return any(a["labels"].get("alertname") == "HighErrorRate" for a in alerts)

    servers.wait_until(arrived, 30, "HighErrorRate to reach Alertmanager")
    return stack
