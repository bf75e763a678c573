"""The loki plugin through ``httpx.MockTransport``, on answers shaped like Loki's docs
(tests/fixtures/loki/README.md): the LogQL and parameters it sends, what it reads back,
and hostile answers as typed errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from callboard_loki import LokiPlugin

from console.core.logmodel import LogQuery
from console.errors import BackendUnavailable, BadResponse, ConfigError
from console.plugin_api import Logs, PluginContext

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "loki"
NOW = 1715247600.0
TRACE = "5b8efff798038103d269b633813fc60c"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def plugin(
    handler: Callable[[httpx.Request], httpx.Response], **options: Any
) -> tuple[LokiPlugin, httpx.AsyncClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    ctx = PluginContext(http=http, secret=lambda n: "s3cret", clock=lambda: NOW)
    return LokiPlugin("loki", {"url": "http://loki.test:3100", **options}, ctx), http


async def ask(
    query: LogQuery, body: bytes, **options: Any
) -> tuple[list[Any], list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(r: httpx.Request) -> httpx.Response:
        seen.append(r)
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    p, http = plugin(handler, **options)
    try:
        return await p.logs(query), seen
    finally:
        await p.aclose()
        await http.aclose()


async def test_a_trace_query_is_logql_on_structured_metadata() -> None:
    q = LogQuery(trace_id=TRACE.upper(), service="checkout", limit=50)
    found, (req,) = await ask(q, fixture("query_range_categorized.json"), tenant="team-a")
    assert req.url.path == "/loki/api/v1/query_range"
    params = req.url.params
    assert params["query"] == f'{{service_name="checkout"}} | trace_id="{TRACE}"'
    assert (params["limit"], params["direction"]) == ("50", "backward")
    end = int(NOW * 1e9)
    assert int(params["end"]) == end + 1 and int(params["start"]) == end - 24 * 3600 * 10**9
    assert req.headers["X-Scope-OrgID"] == "team-a"
    assert req.headers["X-Loki-Response-Encoding-Flags"] == "categorize-labels"
    assert [(r.severity, r.body) for r in found] == [
        ("ERROR", "card declined"),
        ("INFO", "charging card msg=visa"),
        (None, "user logged in"),
    ]
    first, second, third = found
    assert (first.trace_id, first.span_id, first.service) == (TRACE, "eee19b7ec3c1b174", "checkout")
    assert first.time_ns == 1715247552000000300 and first.source == "loki"
    assert second.attributes["msg"] == "visa" and second.attributes["service_namespace"] == "dev"
    assert third.trace_id is None


async def test_the_two_element_form_and_a_custom_label_mapping() -> None:
    q = LogQuery(service="varlogs", since_ns=1569266490000000000, until_ns=1569266500000000000)
    found, (req,) = await ask(
        q,
        fixture("query_range_streams.json"),
        service_label="job",
        labels={"filename": "/var/log/myproject.log"},
    )
    assert req.url.params["query"] == '{job="varlogs", filename="/var/log/myproject.log"}'
    assert req.url.params["start"] == "1569266490000000000"
    assert [(r.time_ns, r.body, r.severity, r.service) for r in found] == [
        (1569266497240578000, "foo", "INFO", "varlogs"),
        (1569266492548155000, "bar", "INFO", "varlogs"),
    ]


async def test_line_match_errors_and_quoting() -> None:
    q = LogQuery(service='we"ird\\svc', span_id="EEE19B7EC3C1B174", errors_only=True)
    found, (req,) = await ask(q, fixture("query_range_categorized.json"), trace_match="line")
    assert req.url.params["query"].startswith(
        '{service_name="we\\"ird\\\\svc"} |= "eee19b7ec3c1b174" | severity_text=~"(?i)('
    )
    assert [r.body for r in found] == ["card declined"]  # the answer's INFO lines dropped


async def test_a_query_with_no_service_and_no_id_asks_nothing() -> None:
    found, seen = await ask(LogQuery(), b"")
    assert (found, seen) == ([], [])
    found, seen = await ask(LogQuery(trace_id="not hex"), b"")
    assert (found, seen) == ([], [])


HOSTILE = {
    "matrix": json.dumps({"status": "success", "data": {"resultType": "matrix", "result": []}}),
    "error": json.dumps({"status": "error", "errorType": "bad_data", "error": "parse error"}),
    "shape": json.dumps({"status": "success", "data": {"resultType": "streams", "result": [7]}}),
    "ts": json.dumps(
        {
            "status": "success",
            "data": {"resultType": "streams", "result": [{"stream": {}, "values": [[1, "x"]]}]},
        }
    ),
    "deep": '{"status":"success","data":' + "[" * 100_000,
    "html": "<html>502</html>",
}


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_hostile_answers_are_bad_responses(name: str) -> None:
    with pytest.raises(BadResponse):
        await ask(LogQuery(service="checkout"), HOSTILE[name].encode())


async def test_escapes_in_lines_and_labels_are_cleaned() -> None:
    doc = {
        "status": "success",
        "data": {
            "resultType": "streams",
            "result": [
                {
                    "stream": {"service_name": "pay\x1b[31m", "k\x1b]52;c;eA==\x07": "v"},
                    "values": [["1", "line\x1b[2J\nnext\x9b1m", {}]],
                }
            ],
        },
    }
    (rec,), _ = await ask(LogQuery(service="pay"), json.dumps(doc).encode())
    assert (rec.service, rec.body) == ("pay", "line\nnext")
    assert list(rec.attributes) == ["k"]


async def test_an_oversized_answer_and_a_503_are_typed() -> None:
    big = b'{"status":"success","data":{"resultType":"streams","result":[' + b" " * 4096 + b"]}}"
    with pytest.raises(BadResponse, match="too large"):
        await ask(LogQuery(service="x"), big, max_response_bytes=2048)

    p, http = plugin(lambda r: httpx.Response(503, text="not ready"))
    try:
        with pytest.raises(BackendUnavailable):
            await p.logs(LogQuery(service="x"))
        assert isinstance(p, Logs)
        status = await p.check()
        assert not status.ok and status.error
    finally:
        await p.aclose()
        await http.aclose()


def test_a_bad_label_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="service_label"):
        plugin(lambda r: httpx.Response(200), service_label="service.name")
