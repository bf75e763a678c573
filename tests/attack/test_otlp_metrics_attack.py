"""A hostile OTLP metrics sender cannot hurt the receiver or the screen: escapes in metric
names and attributes come out inert, huge or over-limit bodies are refused (400/413) with
bounded memory, malformed bytes are a 400, and the receiver keeps serving."""

from __future__ import annotations

import contextlib
import gzip
import json
import random
import time
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from console.core.otlp_limits import DecodeLimits, LimitError
from console.core.otlp_metrics import parse_resource_metrics
from console.core.sanitize import has_control
from console.engine.otlp.health import HealthStore
from console.engine.otlp.proto import ProtoError
from console.engine.otlp.proto_metrics import decode_metrics_request
from console.engine.otlp.receiver import OtlpReceiver, ReceiverLimits
from console.engine.otlp.spanstore import SpanStore
from console.engine.store.sqlite import Store

PB = {"Content-Type": "application/x-protobuf"}
JS = {"Content-Type": "application/json"}
MiB = 1024 * 1024
EVIL = "\x1b]52;c;aGk=\x07\x1b[2J/pay\x9b31m"


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def field(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def histogram_doc(
    route: str = "/pay", service: str = "checkout", name: str = "http.server.request.duration"
) -> dict[str, Any]:
    now = time.time_ns()
    point = {
        "timeUnixNano": str(now),
        "startTimeUnixNano": str(now - 10**9),
        "count": "3",
        "bucketCounts": ["1", "2"],
        "explicitBounds": [0.1],
        "attributes": [
            {"key": "http.route", "value": {"stringValue": route}},
            {"key": "http.request.method", "value": {"stringValue": "GET"}},
            {"key": "http.response.status_code", "value": {"intValue": "200"}},
        ],
    }
    res = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
    metric = {"name": name, "unit": "s",
              "histogram": {"aggregationTemporality": 1, "dataPoints": [point]}}  # fmt: skip
    return {"resourceMetrics": [{"resource": res, "scopeMetrics": [{"metrics": [metric]}]}]}


def as_protobuf(doc: dict[str, Any]) -> bytes:
    msg = ExportMetricsServiceRequest()
    json_format.ParseDict(doc, msg)
    return bytes(msg.SerializeToString())


@pytest.fixture
def store() -> Store:
    return Store(":memory:")


@pytest.fixture
async def receiver(store: Store) -> AsyncIterator[tuple[OtlpReceiver, str]]:
    rx = OtlpReceiver(SpanStore(store), port=0, limits=ReceiverLimits(max_body=4 * MiB))
    await rx.start()
    yield rx, f"http://127.0.0.1:{rx.port}/v1/metrics"
    await rx.stop()


async def test_escapes_in_names_and_attributes_never_reach_a_function_id(
    receiver: tuple[OtlpReceiver, str], store: Store
) -> None:
    _, url = receiver
    async with httpx.AsyncClient() as c:
        for body, h in (
            (json.dumps(histogram_doc(EVIL, "svc" + EVIL)).encode(), JS),
            (
                as_protobuf(histogram_doc(EVIL, "pb" + EVIL, name="http.server.request.duration")),
                PB,
            ),
        ):
            r = await c.post(url, content=body, headers=h)
            assert r.status_code == 200
    found = HealthStore(store).functions()
    assert len(found) == 2
    for f in found:
        assert not has_control(f.id) and not has_control(f.service) and "/pay" in f.operation
    assert not any(has_control(k) for k in HealthStore(store).signals())


async def test_huge_values_are_rejected_points_and_huge_routes_are_not_tallied(
    receiver: tuple[OtlpReceiver, str], store: Store
) -> None:
    _, url = receiver
    async with httpx.AsyncClient() as c:
        r = await c.post(url, json=histogram_doc("/" + "x" * 40_000))  # over max_value_length
        assert r.status_code == 200 and r.json()["partialSuccess"]["rejectedDataPoints"] == "1"
        r = await c.post(url, json=histogram_doc("/" + "y" * 5_000))  # a name over 512 chars
        assert (r.status_code, r.json()) == (200, {})
    assert HealthStore(store).functions() == []


async def test_a_sender_inventing_routes_cannot_grow_the_function_table(store: Store) -> None:
    hs = HealthStore(store, max_functions=50)
    rx = OtlpReceiver(SpanStore(store), port=0, health=hs)
    await rx.start()
    try:
        doc = histogram_doc()
        metric = doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]
        one = metric["histogram"]["dataPoints"][0]
        points = []
        for i in range(500):
            p = json.loads(json.dumps(one))
            p["attributes"][0]["value"]["stringValue"] = f"/r/{i}"
            points.append(p)
        metric["histogram"]["dataPoints"] = points
        async with httpx.AsyncClient() as c:
            r = await c.post(f"http://127.0.0.1:{rx.port}/v1/metrics", json=doc)
        assert r.status_code == 200
    finally:
        await rx.stop()
    assert len(hs.functions()) == 50 and hs.stats.functions_dropped == 450


@pytest.mark.parametrize(
    ("what", "body", "headers", "status"),
    [
        (
            "gzip bomb",
            gzip.compress(b"\x0a\x00" * (5 * MiB)),
            {**PB, "Content-Encoding": "gzip"},
            413,
        ),
        ("over the body limit", b"\x0a\x00" * (2 * MiB + 8), PB, 413),
        ("truncated", as_protobuf(histogram_doc())[:-3], PB, 400),
        ("not JSON", b'{"resourceMetrics": [', JS, 400),
        ("wrong shape", b'{"resourceMetrics": {"a": 1}}', JS, 400),
        (
            "NaN",
            b'{"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "x", '
            b'"gauge": {"dataPoints": [{"timeUnixNano": "1", "asDouble": NaN}]}}]}]}]}',
            JS,
            400,
        ),
        ("too many resources", b"\x0a\x00" * 1001, PB, 400),
        (
            "100,000 buckets",
            field(1, field(2, field(2, field(9, field(1, field(6, b"\x00" * (8 * 100_000))))))),
            PB,
            400,
        ),
    ],
)
async def test_bombs_and_garbage_are_refused_and_the_receiver_keeps_serving(
    receiver: tuple[OtlpReceiver, str], what: str, body: bytes, headers: dict[str, str], status: int
) -> None:
    _, url = receiver
    tracemalloc.start()
    try:
        async with httpx.AsyncClient() as c:
            r = await c.post(url, content=body, headers=headers)
            peak = tracemalloc.get_traced_memory()[1]
            ok = await c.post(url, json=histogram_doc())
    finally:
        tracemalloc.stop()
    assert r.status_code == status, (what, r.text)
    assert ok.status_code == 200
    # at most the decompressed limit (2 × max_body) a few times over, never the bomb's size
    assert peak < 3 * 8 * MiB + 4 * len(body), what


def test_too_many_points_is_a_limit_error_before_they_are_built() -> None:
    point = field(1, b"\x19" + b"\x00" * 8)  # a NumberDataPoint with only a time
    body = field(1, field(2, field(2, field(5, point * 101))))
    with pytest.raises(LimitError):
        decode_metrics_request(body, DecodeLimits(max_data_points=100))


def test_random_bytes_are_a_proto_error_or_a_limit_error_never_a_crash() -> None:
    rnd = random.Random(15)
    good = as_protobuf(histogram_doc())
    health = HealthStore(Store(":memory:"))
    tallied = 0
    for _ in range(2000):
        b = bytearray(good)
        for _ in range(rnd.randint(1, 4)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        with contextlib.suppress(ProtoError, LimitError, ValueError):
            doc = decode_metrics_request(bytes(b), DecodeLimits())
            batch = parse_resource_metrics(doc["resourceMetrics"], limits=DecodeLimits())
            tallied += health.add_points(batch.points)  # what decodes is tallied, or not: no crash
    assert tallied > 0  # some mutations leave a valid point (a changed count, a bound)


def test_a_sender_inventing_cumulative_streams_cannot_grow_the_stream_state() -> None:
    hs = HealthStore(Store(":memory:"), max_streams=100)
    now = time.time_ns()
    doc = histogram_doc()
    metric = doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]
    metric["histogram"]["aggregationTemporality"] = 2  # cumulative: each stream is remembered
    one = metric["histogram"]["dataPoints"][0]
    points = []
    for i in range(1000):
        p = json.loads(json.dumps(one))
        p["attributes"].append({"key": "user", "value": {"stringValue": f"u{i}"}})
        p["timeUnixNano"] = str(now)
        points.append(p)
    metric["histogram"]["dataPoints"] = points
    batch = parse_resource_metrics(doc["resourceMetrics"], limits=DecodeLimits())
    assert hs.add_points(batch.points) == 100  # the first 100 streams, then no more
    assert len(hs.store.tuples("SELECT stream FROM red_streams")) == 100
