"""``expect: {query: ...}`` end to end: ``callboard run`` against a real Prometheus 2.42.

The Prometheus plugin's ``Query`` capability answers a runbook's PromQL check with one
number; several series, or none, are said so plainly instead of a made-up value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.cli import main
from tests.integration import servers
from tests.integration.conftest import need

pytestmark = pytest.mark.integration

PAY = "checkout:POST /pay"
#: Prometheus scrapes itself every second: ``up{job="self"}`` is 1 once it has.
SELF_SCRAPE = (
    "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
    "scrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['{target}']\n"
)


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    need(servers.PROMETHEUS)
    work = tmp_path_factory.mktemp("prom-query")
    port = servers.free_port()
    config = SELF_SCRAPE.replace("{target}", f"127.0.0.1:{port}")
    (work / "prometheus.yml").write_text(config)
    argv = [
        servers.PROMETHEUS,
        f"--config.file={work / 'prometheus.yml'}",
        f"--storage.tsdb.path={work / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    url = f"http://127.0.0.1:{port}"
    with servers._run(argv, url, work / "prometheus.log", 30.0):

        def scraped() -> bool:
            r = httpx.post(url + "/api/v1/query", data={"query": 'up{job="self"}'}, timeout=2)
            return bool(r.json()["data"]["result"])

        servers.wait_until(scraped, 30, "Prometheus to scrape itself")
        yield url


def run(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, prom: str, steps: str
) -> tuple[int, dict[str, Any]]:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "backends:\n  - {name: demo, plugin: demo}\n"
        f"  - {{name: prom, plugin: prometheus, url: '{prom}', discover: false}}\n"
        "otlp: {enabled: false}\n"
    )
    rb = tmp_path / "q.yaml"
    rb.write_text(f"id: q\ntitle: PromQL checks\nsteps:\n{steps}")
    argv = ["--config", str(cfg), "--db", str(tmp_path / "cb.db")]
    with pytest.raises(SystemExit) as exc:
        main([*argv, "run", str(rb), "--function", PAY, "--json"])
    out, _ = capsys.readouterr()
    return int(exc.value.code or 0), json.loads(out)


def test_a_query_check_compares_prometheus_own_number(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, prom: str
) -> None:
    code, doc = run(capsys, tmp_path, prom, (
        "  - {id: up, kind: check, query: 'sum(up{job=\"self\"})', op: '==', value: 1}\n"
        "  - {id: scalar, kind: check, query: 'scalar(sum(up))', op: '>=', value: 1}\n"
        "  - {id: settled, kind: verify, query: 'count(up)', op: '<', value: 5, within: 5}\n"
    ))  # fmt: skip
    assert code == 0, doc
    assert [s["status"] for s in doc["steps"]] == ["done"] * 3
    assert doc["steps"][0]["output"] == "query = 1 (holds == 1)"


def test_several_series_are_a_typed_error_not_a_number(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, prom: str
) -> None:
    code, doc = run(capsys, tmp_path, prom, (
        "  - {id: many, kind: check, query: 'up or vector(1)', op: '>', value: 0}\n"
    ))  # fmt: skip
    assert code == 1 and doc["steps"][0]["status"] == "failed"
    assert "returned 2 series, expected one number" in doc["steps"][0]["output"]


def test_no_series_is_no_data(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, prom: str
) -> None:
    code, doc = run(capsys, tmp_path, prom, (
        "  - {id: gone, kind: check, query: 'up{job=\"nothing-scrapes-this\"}', op: '>', value: 0}\n"
    ))  # fmt: skip
    assert code == 1
    assert doc["steps"][0]["output"] == "query: no data (expected > 0)"
