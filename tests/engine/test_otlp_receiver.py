"""The embedded OTLP/HTTP receiver: what a sender sees for good and bad requests, and what
is left in the store afterwards."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from console.core.model import TraceQuery
from console.core.otlp import parse_resource_spans
from console.engine.otlp.proto import ProtoError, decode_export_request
from console.engine.otlp.receiver import OtlpReceiver, ReceiverLimits
from console.engine.otlp.spanstore import SpanStore
from console.engine.store.sqlite import Store

PB = {"Content-Type": "application/x-protobuf"}
JS = {"Content-Type": "application/json"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def spans(clock: Clock) -> SpanStore:
    return SpanStore(Store(":memory:"), max_spans=100, max_age_s=3600, clock=clock)


async def serve(spans: SpanStore, **limits: Any) -> tuple[OtlpReceiver, str]:
    rx = OtlpReceiver(spans, port=0, limits=ReceiverLimits(**limits))
    host, port = await rx.start()
    assert host == "127.0.0.1"
    return rx, f"http://127.0.0.1:{port}/v1/traces"


@pytest.fixture
async def receiver(spans: SpanStore) -> AsyncIterator[tuple[OtlpReceiver, str]]:
    rx, url = await serve(spans, max_body=64 * 1024)
    yield rx, url
    await rx.stop()


def sdk_request(n: int = 3, error_at: int | None = 1) -> bytes:
    """An ExportTraceServiceRequest serialised by the real OpenTelemetry SDK encoder."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("POST /pay", kind=SpanKind.SERVER) as root:
        root.set_attribute("http.status_code", 500)
        for i in range(n - 1):
            with tracer.start_as_current_span(f"step {i}", kind=SpanKind.CLIENT) as child:
                child.set_attributes(
                    {"i": i, "ratio": 0.5, "ok": True, "tags": ["a", "b"], "ünï": "cödé"}
                )
                child.add_event("retry", {"attempt": i})
                if i == error_at:
                    child.set_status(Status(StatusCode.ERROR, "upstream 503"))
    provider.shutdown()
    return bytes(encode_spans(exporter.get_finished_spans()).SerializeToString())


def json_body(
    *span_ids: str, trace_id: str = "5B8EFFF798038103D269B633813FC60C", **extra: Any
) -> bytes:
    spans = [
        {
            "traceId": trace_id,
            "spanId": sid,
            "name": f"s{sid}",
            "kind": 2,
            "startTimeUnixNano": "1544712660000000000",
            "endTimeUnixNano": "1544712661000000000",
            **extra,
        }
        for sid in span_ids
    ]
    res = {"attributes": [{"key": "service.name", "value": {"stringValue": "my.service"}}]}
    return json.dumps(
        {"resourceSpans": [{"resource": res, "scopeSpans": [{"spans": spans}]}]}
    ).encode()


def test_decoder_matches_the_protobuf_library() -> None:
    data = sdk_request(5)
    msg = ExportTraceServiceRequest()
    msg.ParseFromString(data)
    batch = parse_resource_spans(decode_export_request(data)["resourceSpans"], id_encoding="auto")
    want = {
        s.span_id.hex(): s for rs in msg.resource_spans for ss in rs.scope_spans for s in ss.spans
    }
    assert len(batch.spans) == len(want) == 5 and batch.rejected == 0
    for s in batch.spans:
        w = want[s.span_id]
        assert s.trace_id == w.trace_id.hex() and (s.parent_id or "") == w.parent_span_id.hex()
        assert (s.start_ns, s.duration_ns) == (
            w.start_time_unix_nano,
            w.end_time_unix_nano - w.start_time_unix_nano,
        )
        assert s.name == w.name and s.service == "checkout"
    step = next(s for s in batch.spans if s.name == "step 1")
    assert (step.kind, step.status, step.status_message) == ("client", "error", "upstream 503")
    assert step.attributes == {"i": 1, "ratio": 0.5, "ok": True, "tags": ["a", "b"], "ünï": "cödé"}
    assert step.events[0]["name"] == "retry" and step.events[0]["attributes"] == {"attempt": 1}


@pytest.mark.parametrize("cut", [1, 7, 40, -1])
def test_decoder_refuses_truncated_messages(cut: int) -> None:
    with pytest.raises(ProtoError):
        decode_export_request(sdk_request()[:cut])


async def test_sdk_protobuf_is_stored_with_its_first_error(
    receiver: tuple[OtlpReceiver, str], spans: SpanStore
) -> None:
    _, url = receiver
    async with httpx.AsyncClient() as c:
        r = await c.post(url, content=sdk_request(4), headers=PB)
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-protobuf"
    assert r.content == b""  # full success: partial_success unset
    assert spans.count() == 4
    [row] = spans.find_traces(TraceQuery(service="checkout"))
    t = spans.trace(row.trace_id)
    assert (
        t is not None
        and next(s for s in t.spans if s.span_id == t.first_error_span_id).name == "step 1"
    )


async def test_json_with_uppercase_ids_and_keep_alive(
    receiver: tuple[OtlpReceiver, str], spans: SpanStore
) -> None:
    rx, url = receiver
    async with httpx.AsyncClient() as c:
        r1 = await c.post(url, content=json_body("EEE19B7EC3C1B174"), headers=JS)
        r2 = await c.post(
            url,
            content=json_body("EEE19B7EC3C1B175"),
            headers=JS,
        )
    assert (r1.status_code, r1.json(), r2.status_code) == (200, {}, 200)
    t = spans.trace("5b8efff798038103d269b633813fc60c")
    assert t is not None and {s.span_id for s in t.spans} == {
        "eee19b7ec3c1b174",
        "eee19b7ec3c1b175",
    }
    assert rx.stats.requests == 2


async def test_gzip(receiver: tuple[OtlpReceiver, str], spans: SpanStore) -> None:
    _, url = receiver
    async with httpx.AsyncClient() as c:
        ok = await c.post(
            url, content=gzip.compress(sdk_request()), headers={**PB, "Content-Encoding": "gzip"}
        )
        bad = await c.post(
            url, content=b"\x1f\x8b not gzip", headers={**PB, "Content-Encoding": "gzip"}
        )
        bomb = await c.post(
            url,
            content=gzip.compress(b"\0" * (1024 * 1024)),
            headers={**PB, "Content-Encoding": "gzip"},
        )
        br = await c.post(url, content=b"x", headers={**PB, "Content-Encoding": "br"})
    assert (ok.status_code, bad.status_code, bomb.status_code, br.status_code) == (
        200,
        400,
        413,
        415,
    )
    assert spans.count() == 3


async def test_bad_data_is_400_and_never_retryable(
    receiver: tuple[OtlpReceiver, str], spans: SpanStore
) -> None:
    _, url = receiver
    async with httpx.AsyncClient() as c:
        await c.post(url, content=json_body("EEE19B7EC3C1B174"), headers=JS)
        answers = [
            await c.post(url, content=sdk_request()[:-3], headers=PB),  # truncated protobuf
            await c.post(url, content=b'{"resourceSpans": [', headers=JS),  # invalid JSON
            await c.post(url, content=b"[1, 2]", headers=JS),
            await c.post(url, content=b'{"resourceSpans": {"a": 1}}', headers=JS),
            await c.post(url, content=b"\xff\xfe", headers=JS),
        ]
    for r in answers:
        assert r.status_code == 400 and "retry-after" not in r.headers
    assert all("not a valid" in r.json()["message"] for r in answers[1:])
    assert spans.count() == 1  # the earlier span is still there, nothing half-written
    assert spans.trace("5b8efff798038103d269b633813fc60c") is not None


async def test_protobuf_errors_answer_in_protobuf(receiver: tuple[OtlpReceiver, str]) -> None:
    from google.rpc.status_pb2 import Status as RpcStatus

    _, url = receiver
    async with httpx.AsyncClient() as c:
        r = await c.post(url, content=b"\x0a\xff", headers=PB)
    assert r.status_code == 400 and r.headers["content-type"] == "application/x-protobuf"
    st = RpcStatus()
    st.ParseFromString(r.content)
    assert st.code == 3 and "protobuf" in st.message


async def test_partial_success(receiver: tuple[OtlpReceiver, str], spans: SpanStore) -> None:
    _, url = receiver
    async with httpx.AsyncClient() as c:
        r = await c.post(url, content=json_body("EEE19B7EC3C1B174", "not-hex!"), headers=JS)
        body = json.loads(json_body("EEE19B7EC3C1B176"))
        body["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] = (
            "MUkZX/sL7AU0e0jv6OzBsA=="  # base64: not OTLP JSON
        )
        r2 = await c.post(url, content=json.dumps(body).encode(), headers=JS)
    assert r.status_code == 200
    partial = r.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "1" and "span id" in partial["errorMessage"]
    assert r2.json()["partialSuccess"]["rejectedSpans"] == "1"
    assert spans.count() == 1


async def test_wrong_content_type_path_and_method(
    receiver: tuple[OtlpReceiver, str], spans: SpanStore
) -> None:
    _, url = receiver
    async with httpx.AsyncClient() as c:
        r415 = await c.post(
            url, content=json_body("EEE19B7EC3C1B174"), headers={"Content-Type": "text/plain"}
        )
        r404 = await c.post(url.replace("/v1/traces", "/v1/nothing"), content=b"{}", headers=JS)
        r405 = await c.get(url)
    assert (r415.status_code, r404.status_code, r405.status_code) == (415, 404, 405)
    assert r405.headers["allow"] == "POST"
    assert spans.count() == 0


async def test_oversize_body_is_413_before_it_is_read(
    receiver: tuple[OtlpReceiver, str], spans: SpanStore
) -> None:
    _, url = receiver
    async with httpx.AsyncClient() as c:
        r = await c.post(url, content=b"{" + b" " * (64 * 1024) + b"}", headers=JS)

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(80):
                yield b" " * 1024

        chunked = await c.post(url, content=chunks(), headers=JS)
        small = await c.post(url, content=json_body("EEE19B7EC3C1B174"), headers=JS)
    assert (r.status_code, chunked.status_code, small.status_code) == (413, 413, 200)
    assert spans.count() == 1


async def raw(url: str, data: bytes, *, hang_up: bool = False) -> bytes:
    port = int(url.split(":")[2].split("/")[0])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    if hang_up:
        writer.write_eof()
    out = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return out


async def test_strict_http_parsing(receiver: tuple[OtlpReceiver, str]) -> None:
    _, url = receiver
    no_length = await raw(
        url, b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\r\n"
    )
    both = await raw(
        url,
        b"POST /v1/traces HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}",
    )
    garbage = await raw(url, b"HELLO\r\n\r\n")
    huge = await raw(url, b"POST /v1/traces HTTP/1.1\r\nX: " + b"a" * 20_000 + b"\r\n\r\n")
    cut = await raw(
        url,
        b"POST /v1/traces HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{}",
        hang_up=True,
    )
    assert no_length.startswith(b"HTTP/1.1 411 ") and both.startswith(b"HTTP/1.1 400 ")
    assert garbage.startswith(b"HTTP/1.1 400 ") and huge.startswith(b"HTTP/1.1 431 ")
    assert cut == b""  # the client hung up mid-body: nothing to answer, nothing stored


async def test_flood_beyond_the_retention_cap_keeps_the_newest_whole(
    receiver: tuple[OtlpReceiver, str], spans: SpanStore
) -> None:
    _, url = receiver
    async with httpx.AsyncClient() as c:
        for batch in range(10):
            ids = [f"{batch:08x}{i:08x}" for i in range(30)]
            r = await c.post(url, content=json_body(*ids, trace_id=f"{batch + 1:032x}"), headers=JS)
            assert r.status_code == 200
    assert spans.count() == 100  # the cap
    newest = spans.trace(f"{10:032x}")
    assert newest is not None and len(newest.spans) == 30
    assert spans.trace(f"{1:032x}") is None
    kept = {s.span_id for n in range(7, 11) for s in (spans.trace(f"{n:032x}") or newest).spans}
    assert len(kept) == 100  # traces 8-10 whole, 10 newest spans of trace 7


async def test_age_cap(receiver: tuple[OtlpReceiver, str], spans: SpanStore, clock: Clock) -> None:
    _, url = receiver
    async with httpx.AsyncClient() as c:
        await c.post(url, content=json_body("EEE19B7EC3C1B174", trace_id="1" * 32), headers=JS)
        clock.now += 7200
        await c.post(url, content=json_body("EEE19B7EC3C1B174", trace_id="2" * 32), headers=JS)
    assert spans.trace("1" * 32) is None and spans.trace("2" * 32) is not None


async def test_overload_is_503_with_retry_after(spans: SpanStore) -> None:
    rx, url = await serve(spans, max_pending_spans=2)
    try:
        async with httpx.AsyncClient() as c:
            r = await c.post(url, content=sdk_request(3), headers=PB)
            ok = await c.post(url, content=json_body("EEE19B7EC3C1B174"), headers=JS)
    finally:
        await rx.stop()
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert ok.status_code == 200 and spans.count() == 1


async def test_store_failure_is_retryable_and_loses_nothing(spans: SpanStore) -> None:
    class Broken(SpanStore):
        def add(self, s: Any) -> int:
            raise OSError("disk full")

    rx, url = await serve(Broken(spans.store))
    try:
        async with httpx.AsyncClient() as c:
            r = await c.post(url, content=json_body("EEE19B7EC3C1B174"), headers=JS)
    finally:
        await rx.stop()
    assert r.status_code == 503 and r.headers["retry-after"] == "1"


async def test_partial_success_in_protobuf(receiver: tuple[OtlpReceiver, str]) -> None:
    msg = ExportTraceServiceRequest()
    msg.ParseFromString(sdk_request(2))
    msg.resource_spans[0].scope_spans[0].spans[0].trace_id = b"\0" * 16  # invalid id
    _, url = receiver
    async with httpx.AsyncClient() as c:
        r = await c.post(url, content=msg.SerializeToString(), headers=PB)
    resp = ExportTraceServiceResponse()
    resp.ParseFromString(r.content)
    assert r.status_code == 200 and resp.partial_success.rejected_spans == 1
