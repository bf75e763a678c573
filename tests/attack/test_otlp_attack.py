"""A hostile OTLP sender cannot hurt the receiver (issue 11, items 2 and 3).

Everything runs on loopback against a real receiver on a free port; bodies are built
byte by byte (amplification) or by the real OpenTelemetry protobuf classes (fuzzing).
Memory is measured with tracemalloc around the request, and asserted against a bound a
user would notice (a multiple of the body size), never against a time.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import json
import random
import threading
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from console.core.otlp import SpanBatch
from console.core.otlp_limits import DecodeLimits, LimitError
from console.engine.otlp.decode import decode_body
from console.engine.otlp.http11 import HttpError
from console.engine.otlp.proto import ProtoError, decode_export_request
from console.engine.otlp.receiver import OtlpReceiver, ReceiverLimits
from console.engine.otlp.spanstore import SpanStore
from console.engine.store.sqlite import Store

# the real OTLP JSON example (tests/fixtures is a byte-for-byte copy of ../shared/fixtures)
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "otlp" / "trace.json"
PB = {"Content-Type": "application/x-protobuf"}
JS = {"Content-Type": "application/json"}
MiB = 1024 * 1024


def fixture_json() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(FIXTURE.read_text())
    return doc


def good_json(span_id: str = "EEE19B7EC3C1B174", **extra: Any) -> bytes:
    doc = fixture_json()
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    span.update(spanId=span_id, **extra)
    return json.dumps(doc).encode()


def fixture_protobuf() -> bytes:
    """The fixture, enriched with every AnyValue kind, events and a status, as protobuf."""
    doc = fixture_json()
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    for key in ("traceId", "spanId", "parentSpanId"):  # OTLP JSON hex → proto3 JSON base64
        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    span["attributes"] += [
        {"key": "n", "value": {"intValue": "42"}},
        {"key": "d", "value": {"doubleValue": 0.5}},
        {"key": "b", "value": {"boolValue": True}},
        {"key": "raw", "value": {"bytesValue": "AAEC"}},
        {"key": "arr", "value": {"arrayValue": {"values": [{"stringValue": "x"}]}}},
        {"key": "kv", "value": {"kvlistValue": {"values": [{"key": "k", "value": {}}]}}},
    ]
    span["events"] = [{"timeUnixNano": "1544712660500000000", "name": "retry"}]
    span["status"] = {"code": 2, "message": "boom"}
    msg = ExportTraceServiceRequest()
    json_format.ParseDict(doc, msg)
    return bytes(msg.SerializeToString())


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


@pytest.fixture
def spans() -> SpanStore:
    return SpanStore(Store(":memory:"), max_spans=1000)


async def serve(
    spans: SpanStore, decoder: Callable[..., SpanBatch] = decode_body, **limits: Any
) -> tuple[OtlpReceiver, str]:
    rx = OtlpReceiver(spans, port=0, limits=ReceiverLimits(**limits), decoder=decoder)
    await rx.start()
    return rx, f"http://127.0.0.1:{rx.port}/v1/traces"


@pytest.fixture
async def receiver(spans: SpanStore) -> AsyncIterator[tuple[OtlpReceiver, str]]:
    rx, url = await serve(spans)
    yield rx, url
    await rx.stop()


async def peak_growth(post: Callable[[], Any]) -> tuple[Any, int]:
    """(result of the request, peak traced memory above the level before it)."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = await post()
        return result, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


# -- amplification -----------------------------------------------------------------------


AMP = 8 * MiB - 16  # two-byte messages: a body just under the 16 MiB default limit


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"\x0a\x00" * AMP, id="empty-resource-spans"),
        pytest.param(field(1, field(2, b"\x12\x00" * AMP)), id="empty-spans"),
        pytest.param(field(1, field(2, field(2, b"\x4a\x00" * AMP))), id="empty-attributes"),
    ],
)
async def test_protobuf_amplification_is_refused_with_bounded_memory(
    receiver: tuple[OtlpReceiver, str], spans: SpanStore, body: bytes
) -> None:
    _, url = receiver
    async with httpx.AsyncClient(timeout=120) as c:
        r, grown = await peak_growth(lambda: c.post(url, content=body, headers=PB))
        ok = await c.post(url, content=good_json(), headers=JS)
    assert r.status_code == 400 and b"send smaller batches" in r.content  # a google.rpc.Status
    assert grown < 10 * len(body), f"{grown / len(body):.1f}× the body"
    assert ok.status_code == 200 and spans.count() == 1  # nothing from the attack stored


async def test_json_amplification_is_refused_with_bounded_memory(
    receiver: tuple[OtlpReceiver, str],
) -> None:
    body = b'{"resourceSpans":[' + b",".join([b"{}"] * (MiB)) + b"]}"
    _, url = receiver
    async with httpx.AsyncClient(timeout=120) as c:
        r, grown = await peak_growth(lambda: c.post(url, content=body, headers=JS))
    assert r.status_code == 400 and "JSON values in one request" in r.json()["message"]
    assert grown < 10 * len(body), f"{grown / len(body):.1f}× the body"


async def test_over_per_span_limits_is_a_partial_success(
    receiver: tuple[OtlpReceiver, str], spans: SpanStore
) -> None:
    many = [{"key": f"k{i}", "value": {"intValue": i}} for i in range(129)]
    doc = fixture_json()
    good = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    bad = [
        {**good, "spanId": "0000000000000001", "attributes": many},
        {**good, "spanId": "0000000000000002", "events": [{"name": "e"}] * 129},
        {**good, "spanId": "0000000000000003", "name": "x" * (32 * 1024 + 1)},
    ]
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"] += bad
    _, url = receiver
    async with httpx.AsyncClient() as c:
        r = await c.post(url, content=json.dumps(doc).encode(), headers=JS)
    partial = r.json()["partialSuccess"]
    assert r.status_code == 200 and partial["rejectedSpans"] == "3"
    for why in ("129 attributes (limit 128)", "129 events (limit 128)", "(limit 32768)"):
        assert why in partial["errorMessage"]
    assert spans.count() == 1


async def test_protobuf_over_per_span_limits_is_a_partial_success(
    receiver: tuple[OtlpReceiver, str], spans: SpanStore
) -> None:
    msg = ExportTraceServiceRequest()
    msg.ParseFromString(fixture_protobuf())
    extra = msg.resource_spans[0].scope_spans[0].spans.add()
    extra.CopyFrom(msg.resource_spans[0].scope_spans[0].spans[0])
    extra.span_id = b"\1" * 8
    for _ in range(200):
        extra.events.add().name = "e"
    _, url = receiver
    async with httpx.AsyncClient() as c:
        r = await c.post(url, content=msg.SerializeToString(), headers=PB)
    resp = ExportTraceServiceResponse()
    resp.ParseFromString(r.content)
    assert r.status_code == 200 and resp.partial_success.rejected_spans == 1
    assert "span 0101010101010101: 201 events (limit 128)" in resp.partial_success.error_message
    assert spans.count() == 1


# -- the event loop keeps answering ------------------------------------------------------


async def test_a_small_request_is_answered_while_a_big_one_is_decoding(
    spans: SpanStore,
) -> None:
    started, release = threading.Event(), threading.Event()

    def held(body: bytes, ctype: str, **kw: Any) -> SpanBatch:
        if len(body) > 256 * 1024:  # the big one: hold it inside the decoder
            started.set()
            release.wait(60)
        return decode_body(body, ctype, **kw)

    rx, url = await serve(spans, decoder=held)
    big_body = field(1, field(2, b"\x12\x00" * MiB))
    try:
        async with httpx.AsyncClient(timeout=60) as c:
            big = asyncio.create_task(c.post(url, content=big_body, headers=PB))
            assert await asyncio.to_thread(started.wait, 60)
            small = await c.post(url, content=good_json(), headers=JS)
            assert not big.done()  # answered while the big body is still being decoded
            release.set()
            assert (await big).status_code == 400
    finally:
        release.set()
        await rx.stop()
    assert small.status_code == 200 and spans.count() == 1


# -- numbers -----------------------------------------------------------------------------


async def raw_exchange(port: int, requests: list[bytes]) -> list[bytes]:
    """Send requests one after another on ONE connection; each response's head + body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    out = []
    try:
        for req in requests:
            writer.write(req)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            out.append(head + await reader.readexactly(length))
    finally:
        writer.close()
    return out


def post(body: bytes, ctype: str = "application/json") -> bytes:
    head = f"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


@pytest.mark.parametrize(
    "value",
    [
        '{"intValue": 1e999}',
        '{"doubleValue": 1e999}',
        '{"doubleValue": -1e999}',
        '{"doubleValue": NaN}',
        '{"doubleValue": Infinity}',
        '{"doubleValue": "Infinity"}',
        '{"intValue": "99999999999999999999"}',
        '{"intValue": 1.5}',
        '{"intValue": 1e300}',
    ],
)
async def test_bad_numbers_are_400_and_the_connection_stays_usable(
    receiver: tuple[OtlpReceiver, str], spans: SpanStore, value: str
) -> None:
    rx, _ = receiver
    doc = fixture_json()
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"][0]["value"] = "BAD"
    bad = json.dumps(doc).replace('"BAD"', value).encode()  # literals json.dumps cannot write
    first, second = await raw_exchange(rx.port, [post(bad), post(good_json())])
    assert first.startswith(b"HTTP/1.1 400 ") and b"Retry-After" not in first
    assert b"Connection: close" not in first
    assert second.startswith(b"HTTP/1.1 200 ") and spans.count() == 1


async def test_a_non_finite_double_in_protobuf_is_400(receiver: tuple[OtlpReceiver, str]) -> None:
    msg = ExportTraceServiceRequest()
    msg.ParseFromString(fixture_protobuf())
    msg.resource_spans[0].scope_spans[0].spans[0].attributes[0].value.double_value = float("inf")
    _, url = receiver
    async with httpx.AsyncClient() as c:
        r = await c.post(url, content=msg.SerializeToString(), headers=PB)
    assert r.status_code == 400


# -- gzip bombs and the memory budget ----------------------------------------------------


async def test_a_gzip_bomb_is_413_with_bounded_memory(spans: SpanStore) -> None:
    z = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = b"\0" * MiB
    bomb = b"".join(z.compress(zeros) for _ in range(256)) + z.flush()  # 256 MiB inflated
    rx, url = await serve(spans, max_body=MiB, max_decoded=4 * MiB)
    try:
        async with httpx.AsyncClient(timeout=60) as c:
            r, grown = await peak_growth(
                lambda: c.post(url, content=bomb, headers={**PB, "Content-Encoding": "gzip"})
            )
            ok = await c.post(
                url, content=gzip.compress(good_json()), headers={**JS, "Content-Encoding": "gzip"}
            )
    finally:
        await rx.stop()
    assert r.status_code == 413 and b"decompressed body" in r.content
    assert grown < 3 * 4 * MiB  # bounded by the decompressed limit, not by 256 MiB
    assert ok.status_code == 200


async def test_bodies_over_the_memory_budget_are_503_with_retry_after(spans: SpanStore) -> None:
    rx, url = await serve(spans, max_body=MiB, memory_budget=MiB, small_body=1024)
    body = good_json().ljust(700 * 1024)  # trailing spaces: still valid JSON
    assert len(good_json()) < 1024
    reader, writer = await asyncio.open_connection("127.0.0.1", rx.port)
    try:
        head = (
            "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Expect: 100-continue\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode())
        # "100 Continue" comes once the receiver has reserved this body against the budget
        assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)).startswith(
            b"HTTP/1.1 100"
        )
        async with httpx.AsyncClient() as c:
            over = await c.post(url, content=body, headers=JS)
            small = await c.post(url, content=good_json("0000000000000009"), headers=JS)
            writer.write(body)
            first = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            after = await c.post(url, content=body, headers=JS)  # the budget is free again
    finally:
        writer.close()
        await rx.stop()
    assert over.status_code == 503 and over.headers["retry-after"] == "1"
    assert small.status_code == 200  # a small batch is never starved by big ones
    assert first.startswith(b"HTTP/1.1 200 ")
    assert after.status_code == 200


# -- fuzzing -----------------------------------------------------------------------------


def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        i = rng.randrange(len(b) + 1) if b else 0
        if op == 0 and b:
            b[min(i, len(b) - 1)] = rng.randrange(256)
        elif op == 1:
            b[i:i] = rng.randbytes(rng.randint(1, 8))
        elif op == 2:
            del b[i : i + rng.randint(1, 16)]
        elif op == 3 and b:
            j = rng.randrange(len(b))
            b[i:i] = b[j : j + rng.randint(1, 64)]  # duplicate a slice: repeated fields
        else:
            b = b[:i]
    return bytes(b)


def mutate_tree(rng: random.Random, node: Any) -> Any:
    """Replace one random node of a JSON document with a hostile value."""
    hostile = [None, True, -1, 2**64, 1.5, "", "zz", [], {}, [None], {"": None}, "9" * 30]
    if isinstance(node, dict) and node and rng.random() < 0.8:
        key = rng.choice(list(node))
        return {**node, key: mutate_tree(rng, node[key])}
    if isinstance(node, list) and node and rng.random() < 0.8:
        i = rng.randrange(len(node))
        return [*node[:i], mutate_tree(rng, node[i]), *node[i + 1 :]]
    return rng.choice(hostile)


def decode_or_typed_error(body: bytes, ctype: str) -> None:
    try:
        decode_body(body, ctype, gzip=False, max_decoded=0, limits=DecodeLimits())
    except HttpError as exc:
        assert exc.status == 400, exc.message


def test_fuzzed_protobuf_never_raises_an_untyped_error() -> None:
    rng = random.Random(11)
    seed = fixture_protobuf()
    for _ in range(3000):
        body = mutate(rng, seed)
        decode_or_typed_error(body, "application/x-protobuf")
        with contextlib.suppress(ProtoError, LimitError):
            decode_export_request(body)


def test_fuzzed_json_never_raises_an_untyped_error() -> None:
    rng = random.Random(11)
    text = FIXTURE.read_bytes()
    doc = fixture_json()
    for _ in range(1500):
        decode_or_typed_error(mutate(rng, text), "application/json")
        decode_or_typed_error(json.dumps(mutate_tree(rng, doc)).encode(), "application/json")
