"""``callboard check --probe``: each backend asked once, each custom query run once (issue 12).

The Prometheus tests run the real Prometheus 2.42 on a free loopback port; the unit tests
answer through ``httpx.MockTransport`` in the API's own payload shapes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.cli import main
from console.config import parse_config
from tests.integration import servers
from tests.integration.conftest import need

GOOD_REQUESTS = "count by ($by) (vector(1))"
GOOD_LATENCY = 'histogram_quantile($q, sum by ($by) (rate(x_bucket{job="a"}[$window])))'
#: An unclosed parenthesis: Prometheus answers 400 bad_data with a parse error.
BAD_LATENCY = 'histogram_quantile($q, sum by ($by) (rate(x_bucket{job="a"}[$window]))'


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def config_text(url: str, latency: str) -> str:
    return (
        "backends:\n"
        "  - name: prom\n"
        "    plugin: prometheus\n"
        f"    url: {url}\n"
        "    preset: custom\n"
        "    queries:\n"
        f"      requests: '{GOOD_REQUESTS}'\n"
        f"      latency: '{latency}'\n"
    )


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    need(servers.PROMETHEUS)
    work = tmp_path_factory.mktemp("probe-prom")
    with servers.prometheus_with(work, "global:\n  scrape_interval: 1s\n") as prom:
        yield prom.url


@pytest.mark.integration
def test_a_bad_custom_query_fails_the_probe_with_prometheus_error_and_its_line(
    prometheus: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(config_text(prometheus, BAD_LATENCY))
    code, out, err = run(["--config", str(cfg), "check", "--probe"], capsys)
    assert code == 1, out + err
    assert "backend prom (prometheus): ok" in out
    assert f"query requests ({cfg}:7): 1 series" in out
    bad = next(line for line in out.splitlines() if "query latency" in line)
    assert f"({cfg}:8): failing" in bad
    assert "bad_data" in bad and "parse error" in bad
    assert "Traceback" not in out + err


@pytest.mark.integration
def test_everything_answering_exits_0(
    prometheus: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(config_text(prometheus, GOOD_LATENCY))
    code, out, err = run(["--config", str(cfg), "check", "--probe"], capsys)
    assert code == 0, out + err
    assert "query requests" in out and "query latency" in out and "0 series" in out
    assert out.strip().endswith("ok")
    code, out, _ = run(["--config", str(cfg), "check", "--probe", "--json"], capsys)
    assert code == 0
    report = json.loads(out)
    assert report["ok"] is True
    [backend] = report["backends"]
    assert backend["ok"] is True and backend["latency_ms"] is not None
    assert {q["query"]: q["series"] for q in backend["queries"]} == {"requests": 1, "latency": 0}


def test_an_unreachable_backend_fails_with_connection_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = servers.free_port()  # closed again: nothing listens there
    cfg = tmp_path / "c.yaml"
    cfg.write_text(config_text(f"http://admin:hunter2@127.0.0.1:{port}", GOOD_LATENCY))
    code, out, err = run(["--config", str(cfg), "check", "--probe"], capsys)
    assert code == 1, out + err
    [line] = [line for line in out.splitlines() if line.startswith("backend prom")]
    assert "failing" in line and "connection refused" in line
    assert "hunter2" not in out + err
    assert "query" not in out  # a backend that does not answer is not asked its queries
    code, out, _ = run(["--config", str(cfg), "check", "--probe", "--json"], capsys)
    assert code == 1
    [backend] = json.loads(out)["backends"]
    assert backend["ok"] is False and "connection refused" in backend["error"]


def test_check_without_probe_asks_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(config_text(f"http://127.0.0.1:{servers.free_port()}", BAD_LATENCY))
    code, out, _ = run(["--config", str(cfg), "check"], capsys)
    assert code == 0 and out.strip().endswith("ok")
    code, _, err = run(["--config", str(cfg), "check", "--json"], capsys)
    assert code == 2 and "--json needs --probe" in err


def _prometheus(requests: list[httpx.Request]) -> httpx.MockTransport:
    """Prometheus's answers: a vector for good queries, 400 bad_data for one with ``BAD``."""

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.path == "/api/v1/status/config":
            yaml = "global:\n  scrape_interval: 15s\n"
            return httpx.Response(200, json={"status": "success", "data": {"yaml": yaml}})
        query = dict(httpx.QueryParams(request.content.decode()))["query"]
        if "BAD" in query:
            error = '1:12: parse error: unexpected identifier "BAD"'
            body = {"status": "error", "errorType": "bad_data", "error": error}
            return httpx.Response(400, json=body)
        series = [
            {"metric": {"job": "api"}, "value": [1700000000.0, "1"]},
            {"metric": {"job": "web"}, "value": [1700000000.0, "2"]},
        ]
        data = {"resultType": "vector", "result": series}
        return httpx.Response(200, json={"status": "success", "data": data})

    return httpx.MockTransport(handle)


def _probe(backend: Mapping[str, Any], requests: list[httpx.Request]) -> list[dict[str, Any]]:
    from console.commands.probe import probe_fleet  # here: each test fails on its own before

    config = parse_config({"backends": [backend]})

    async def go() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(transport=_prometheus(requests)) as http:
            return await probe_fleet(config, http=http)

    return asyncio.run(go())


def test_each_custom_query_runs_once_filled_as_at_refresh() -> None:
    requests: list[httpx.Request] = []
    backend = {
        "name": "prom",
        "plugin": "prometheus",
        "url": "http://prom.invalid",
        "preset": "custom",
        "selector": 'env="prod"',
        "queries": {
            "requests": "sum by ($by) (rate(hits{$selector}[$window]))",
            "latency": "histogram_quantile($q, BAD by ($by) (rate(h{$selector}[$window])))",
        },
    }
    [report] = _probe(backend, requests)
    assert report["ok"] is True
    by_name = {q["query"]: q for q in report["queries"]}
    assert by_name["requests"]["series"] == 2 and by_name["requests"]["ok"] is True
    assert by_name["latency"]["ok"] is False and by_name["latency"]["series"] is None
    assert "bad_data" in by_name["latency"]["error"]
    assert "unexpected identifier" in by_name["latency"]["error"]
    sent = [
        dict(httpx.QueryParams(r.content.decode()))["query"]
        for r in requests
        if r.url.path == "/api/v1/query"
    ]
    # the check's trivial query, then each template once, its placeholders replaced
    assert sent[0] == "vector(1)"
    assert sorted(sent[1:]) == sorted(
        [
            'sum by (service, job) (rate(hits{env="prod"}[1m]))',
            'histogram_quantile(0.99, BAD by (le, service, job) (rate(h{env="prod"}[1m])))',
        ]
    )
    assert len(requests) <= 4  # check, scrape-interval read, two queries


def test_a_backend_without_custom_queries_is_only_checked() -> None:
    requests: list[httpx.Request] = []
    backend = {"name": "p", "plugin": "prometheus", "url": "http://prom.invalid"}
    [report] = _probe(backend, requests)
    assert report["ok"] is True and report["queries"] == []
    assert len(requests) == 1


def test_a_secret_missing_here_fails_the_probe_not_the_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "backends:\n  - {name: prom, plugin: prometheus, url: 'http://127.0.0.1:9',"
        " auth: {bearer: {secret: probe-test-missing}}}\n"
    )
    code, _, _ = run(["--config", str(cfg), "check"], capsys)
    assert code == 0
    code, _, err = run(["--config", str(cfg), "check", "--probe"], capsys)
    assert code == 1
    assert "cannot probe" in err and "probe-test-missing" in err and f"{cfg}:2" in err
