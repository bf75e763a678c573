"""``POST /v1/logs`` on the embedded receiver: the real OpenTelemetry SDK's log exporter
(protobuf), the spec's JSON example, gzip, partial success, bad data, and retention."""

from __future__ import annotations

import gzip
import json
import logging
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord as PbLogRecord
from opentelemetry.proto.logs.v1.logs_pb2 import ResourceLogs, ScopeLogs
from opentelemetry.proto.resource.v1.resource_pb2 import Resource as PbResource
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from console.core.logmodel import LogQuery
from console.core.otlp_logs import parse_resource_logs
from console.engine.otlp.logproto import decode_logs_request
from console.engine.otlp.logstore import LogStore
from console.engine.otlp.receiver import OtlpReceiver, ReceiverLimits
from console.engine.otlp.spanstore import SpanStore
from console.engine.store.sqlite import Store

PB = {"Content-Type": "application/x-protobuf"}
JS = {"Content-Type": "application/json"}
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "otlp" / "logs.json"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def stores(clock: Clock) -> Iterator[tuple[SpanStore, LogStore]]:
    store = Store(":memory:")
    spans = SpanStore(store, clock=clock)
    yield spans, LogStore(spans.store, max_records=50, max_age_s=3600, clock=clock)
    store.close()


@pytest.fixture
async def receiver(stores: tuple[SpanStore, LogStore]) -> AsyncIterator[tuple[OtlpReceiver, str]]:
    spans, logs = stores
    rx = OtlpReceiver(spans, port=0, logs=logs, limits=ReceiverLimits(max_body=256 * 1024))
    _, port = await rx.start()
    yield rx, f"http://127.0.0.1:{port}"
    await rx.stop()


def pb_request(body: AnyValue, **record: Any) -> bytes:
    """An ExportLogsServiceRequest built with the opentelemetry-proto classes."""
    rec = PbLogRecord(body=body, **record)
    req = ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=PbResource(
                    attributes=[KeyValue(key="service.name", value=AnyValue(string_value="pay"))]
                ),
                scope_logs=[ScopeLogs(log_records=[rec])],
            )
        ]
    )
    return req.SerializeToString()


def test_decoder_reads_every_field_the_protobuf_library_writes() -> None:
    kv = KeyValueList(
        values=[
            KeyValue(key="user", value=AnyValue(string_value="ann")),
            KeyValue(key="n", value=AnyValue(int_value=-3)),
        ]
    )
    data = pb_request(
        AnyValue(kvlist_value=kv),
        time_unix_nano=1_700_000_000_123_456_789,
        observed_time_unix_nano=1_700_000_001_000_000_000,
        severity_number=18,
        severity_text="E2",
        attributes=[KeyValue(key="http.route", value=AnyValue(string_value="/pay"))],
        flags=1,
        trace_id=bytes.fromhex("5b8efff798038103d269b633813fc60c"),
        span_id=bytes.fromhex("eee19b7ec3c1b174"),
        event_name="payment.failed",
    )
    batch = parse_resource_logs(decode_logs_request(data)["resourceLogs"], id_encoding="auto")
    (r,) = batch.records
    assert (r.time_ns, r.observed_ns) == (1_700_000_000_123_456_789, 1_700_000_001_000_000_000)
    assert (r.severity, r.severity_number, r.severity_text) == ("ERROR", 18, "E2")
    assert r.body == '{"user": "ann", "n": -3}'
    assert (r.trace_id, r.span_id) == ("5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174")
    assert (r.service, r.flags, r.event_name) == ("pay", 1, "payment.failed")
    assert r.attributes == {"http.route": "/pay"}


def sdk_logs(base: str) -> str:
    """The real SDK: a span, and two log records through the logging bridge inside it.
    Returns the span's trace id (hex)."""
    resource = Resource.create({"service.name": "checkout"})
    provider = LoggerProvider(resource=resource)
    provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{base}/v1/logs", timeout=10))
    )
    with warnings.catch_warnings():  # 1.45 deprecates it for the instrumentation package's
        warnings.simplefilter("ignore", DeprecationWarning)
        handler = LoggingHandler(level=logging.DEBUG, logger_provider=provider)
    log = logging.getLogger("test.otlp.logs")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    tracer = TracerProvider(resource=resource).get_tracer("test")
    try:
        with tracer.start_as_current_span("POST /pay") as span:
            trace_id = format(span.get_span_context().trace_id, "032x")
            log.info("charging card %s", "visa", extra={"order.id": 42})
            log.error("card declined")
        log.warning("outside any span")
    finally:
        log.removeHandler(handler)
        provider.shutdown()
    return trace_id


async def test_the_sdk_log_exporter_is_stored_and_found_by_trace_id(
    receiver: tuple[OtlpReceiver, str], stores: tuple[SpanStore, LogStore]
) -> None:
    rx, base = receiver
    import asyncio

    trace_id = await asyncio.to_thread(sdk_logs, base)
    _, logs = stores
    found = logs.logs(LogQuery(trace_id=trace_id))
    assert [(r.severity, r.body) for r in found] == [
        ("ERROR", "card declined"),
        ("INFO", "charging card visa"),
    ]
    assert all(r.service == "checkout" and r.span_id for r in found)
    assert found[1].attributes["order.id"] == 42
    assert [r.body for r in logs.logs(LogQuery(trace_id=trace_id, errors_only=True))] == [
        "card declined"
    ]
    by_service = logs.logs(LogQuery(service="checkout"))
    assert len(by_service) == 3 and by_service[0].body == "outside any span"
    assert by_service[0].trace_id is None
    assert rx.stats.logs_accepted == 3 and rx.stats.logs_rejected == 0


async def test_the_spec_json_example_gzipped(
    receiver: tuple[OtlpReceiver, str], stores: tuple[SpanStore, LogStore]
) -> None:
    _, base = receiver
    body = gzip.compress(FIXTURE.read_bytes())
    async with httpx.AsyncClient() as c:
        r = await c.post(
            f"{base}/v1/logs", content=body, headers={**JS, "Content-Encoding": "gzip"}
        )
    assert (r.status_code, r.json()) == (200, {})
    (rec,) = stores[1].logs(LogQuery(trace_id="5B8EFFF798038103D269B633813FC60C"))
    assert (rec.service, rec.scope, rec.body) == ("my.service", "my.library", "Example log record")
    assert (rec.severity, rec.severity_number, rec.severity_text) == ("INFO", 10, "Information")
    assert rec.span_id == "eee19b7ec3c1b174"
    assert rec.attributes["map.attribute"] == {"some.map.key": "some value"}
    assert rec.attributes["int.attribute"] == 10


def json_logs(*records: dict[str, Any]) -> bytes:
    res = {"attributes": [{"key": "service.name", "value": {"stringValue": "pay"}}]}
    return json.dumps(
        {"resourceLogs": [{"resource": res, "scopeLogs": [{"logRecords": list(records)}]}]}
    ).encode()


GOOD = {"timeUnixNano": "1700000000000000000", "body": {"stringValue": "ok"}}
BAD_ID = {**GOOD, "traceId": "not-hex!"}


async def test_partial_success_rejects_only_the_bad_record(
    receiver: tuple[OtlpReceiver, str], stores: tuple[SpanStore, LogStore]
) -> None:
    _, base = receiver
    async with httpx.AsyncClient() as c:
        r = await c.post(f"{base}/v1/logs", content=json_logs(GOOD, BAD_ID), headers=JS)
        assert r.status_code == 200
        partial = r.json()["partialSuccess"]
        assert partial["rejectedLogRecords"] == "1" and "trace id" in partial["errorMessage"]
        data = ExportLogsServiceRequest.FromString(pb_request(AnyValue(string_value="x")))
        data.resource_logs[0].scope_logs[0].log_records[0].span_id = b"\x01\x02"
        r = await c.post(f"{base}/v1/logs", content=data.SerializeToString(), headers=PB)
    assert r.status_code == 200
    answer = ExportLogsServiceResponse.FromString(r.content)
    assert answer.partial_success.rejected_log_records == 1
    assert stores[1].count() == 1


async def test_bad_bodies_are_400_and_other_paths_404(receiver: tuple[OtlpReceiver, str]) -> None:
    _, base = receiver
    async with httpx.AsyncClient() as c:
        bad_pb = await c.post(f"{base}/v1/logs", content=b"\x0a\x05\x12", headers=PB)
        bad_js = await c.post(f"{base}/v1/logs", content=b'{"resourceLogs": 7}', headers=JS)
        nan = await c.post(
            f"{base}/v1/logs",
            content=json_logs({**GOOD, "body": {"doubleValue": "NaN"}}),
            headers=JS,
        )
        wrong = await c.post(f"{base}/v1/log", content=b"{}", headers=JS)
    assert [bad_pb.status_code, bad_js.status_code, nan.status_code] == [400, 400, 400]
    assert wrong.status_code == 404


async def test_without_a_log_store_the_path_is_404(stores: tuple[SpanStore, LogStore]) -> None:
    rx = OtlpReceiver(stores[0], port=0)
    _, port = await rx.start()
    try:
        async with httpx.AsyncClient() as c:
            r = await c.post(f"http://127.0.0.1:{port}/v1/logs", content=b"{}", headers=JS)
        assert r.status_code == 404
    finally:
        await rx.stop()


async def test_retention_keeps_the_newest_within_the_count_and_age(
    receiver: tuple[OtlpReceiver, str], stores: tuple[SpanStore, LogStore], clock: Clock
) -> None:
    _, base = receiver
    _, logs = stores
    async with httpx.AsyncClient() as c:
        for batch in range(4):  # 4 × 20 records into a store that keeps 50
            records = [
                {**GOOD, "timeUnixNano": str(1_700_000_000_000_000_000 + batch * 100 + i),
                 "body": {"stringValue": f"b{batch} r{i}"}}
                for i in range(20)
            ]  # fmt: skip
            r = await c.post(f"{base}/v1/logs", content=json_logs(*records), headers=JS)
            assert r.status_code == 200
        assert logs.count() == 50
        kept = logs.logs(LogQuery(service="pay", limit=1000))
        assert kept[0].body == "b3 r19" and kept[-1].body == "b1 r10"
        clock.now += 3601
        r = await c.post(f"{base}/v1/logs", content=json_logs(GOOD), headers=JS)
    assert [rec.body for rec in logs.logs(LogQuery(service="pay"))] == ["ok"]


@pytest.mark.parametrize(
    ("sql", "args", "index"),
    [
        (
            "DELETE FROM logs WHERE seq <= (SELECT MAX(seq) FROM logs) - ?",
            (5,),
            "INTEGER PRIMARY KEY",
        ),
        ("DELETE FROM logs WHERE received_at < ?", (1.0,), "INDEX logs_received"),
    ],
)
def test_pruning_is_a_range_delete_on_an_index(
    stores: tuple[SpanStore, LogStore], sql: str, args: tuple[Any, ...], index: str
) -> None:
    plan = " ".join(str(r[-1]) for r in stores[1].store.tuples("EXPLAIN QUERY PLAN " + sql, args))
    assert f"USING {index}" in plan and "SCAN logs" not in plan, plan


TID, SID = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (LogQuery(trace_id=TID), "logs_trace"),
        (LogQuery(trace_id=TID, span_id=SID), "logs_trace"),
        (LogQuery(service="pay", since_ns=1, errors_only=True), "logs_service_time"),
    ],
)
def test_every_lookup_uses_its_index(
    stores: tuple[SpanStore, LogStore], query: LogQuery, index: str
) -> None:
    logs = stores[1]
    select = logs.select(query)
    assert select is not None
    sql, args = select
    plan = " ".join(str(r[-1]) for r in logs.store.tuples("EXPLAIN QUERY PLAN " + sql, args))
    assert f"USING INDEX {index}" in plan and "SCAN logs" not in plan, plan
    assert logs.select(LogQuery()) is None and logs.select(LogQuery(trace_id="zz")) is None
