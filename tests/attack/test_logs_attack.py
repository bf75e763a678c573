"""A hostile sender of OTLP logs cannot hurt the receiver, the CLI or the console.

Against a real receiver on a free port: escape sequences and markup in bodies,
attributes, names and severity texts arrive inert (in the store, ``callboard logs`` and
the logs screen); a huge body is kept cut; deep and wide kvlist bodies render bounded or
are refused; amplification and fuzzed bytes end as typed 400s with bounded memory.
"""

from __future__ import annotations

import json
import random
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue, KeyValueList

from console.core.logmodel import LogQuery
from console.core.otlp_logs import LogLimits
from console.engine.otlp.http11 import HttpError
from console.engine.otlp.logdecode import decode_logs_body
from console.engine.otlp.logstore import LogStore
from console.engine.otlp.receiver import OtlpReceiver
from console.engine.otlp.spanstore import SpanStore
from console.engine.store.sqlite import Store
from tests.attack.test_attack_escapes import PAYLOADS, _cli, assert_inert, hostile

PB = {"Content-Type": "application/x-protobuf"}
JS = {"Content-Type": "application/json"}
MiB = 1024 * 1024
TRACE = "5b8efff798038103d269b633813fc60c"
MARKUP = "[bold red]not markup[/] [link=http://evil]x[/link]"


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[Store, LogStore]]:
    store = Store(tmp_path / "cb.db")
    yield store, LogStore(store)
    store.close()


@pytest.fixture
async def url(stores: tuple[Store, LogStore]) -> AsyncIterator[str]:
    store, logs = stores
    rx = OtlpReceiver(SpanStore(store), port=0, logs=logs)
    _, port = await rx.start()
    yield f"http://127.0.0.1:{port}/v1/logs"
    await rx.stop()


def doc(service: str, *records: dict[str, Any]) -> dict[str, Any]:
    res = {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]}
    scope = {"name": hostile("my.logger", 3)}
    return {
        "resourceLogs": [
            {"resource": res, "scopeLogs": [{"scope": scope, "logRecords": list(records)}]}
        ]
    }


def hostile_record(seed: int) -> dict[str, Any]:
    return {
        "timeUnixNano": "1700000000000000000",
        "severityNumber": 17,
        "severityText": hostile("ERROR", seed),
        "traceId": TRACE,
        "body": {"stringValue": hostile(MARKUP + "\nsecond line", seed)},
        "attributes": [
            {"key": hostile("user.id", seed + 1), "value": {"stringValue": hostile("ann", seed)}},
            {
                "key": "nested",
                "value": {
                    "kvlistValue": {
                        "values": [
                            {"key": "k", "value": {"stringValue": PAYLOADS["osc52-clipboard"]}}
                        ]
                    }
                },
            },
        ],
    }


def every_string(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from every_string(k)
            yield from every_string(v)
    elif isinstance(obj, list | tuple):
        for v in obj:
            yield from every_string(v)


async def test_escapes_and_markup_arrive_inert_in_store_cli_and_json(
    url: str, stores: tuple[Store, LogStore], tmp_path: Path
) -> None:
    body = doc(hostile("checkout", 1), hostile_record(2), hostile_record(5))
    async with httpx.AsyncClient() as c:
        r = await c.post(url, content=json.dumps(body), headers=JS)
    assert (r.status_code, r.json()) == (200, {})
    found = stores[1].logs(LogQuery(trace_id=TRACE))
    assert len(found) == 2
    for rec in found:
        texts = [rec.body, rec.service, rec.scope, rec.severity_text, *every_string(rec.attributes)]
        for text in texts:
            assert_inert(text.replace("\n", ""), "a stored record")
        assert rec.service == "checkout" and rec.severity == "ERROR"
        assert rec.body == MARKUP + "\nsecond line"  # markup is text; the newline kept
        assert rec.attributes["user.id"] == "ann"

    table = _cli(tmp_path / "cb.db", "logs", "--trace", TRACE, env={"COLUMNS": "200"})
    assert table.returncode == 0, table.stderr
    assert "not markup" in table.stdout and "[bold red]" in table.stdout
    assert_inert(table.stdout.replace("\n", ""), "logs --trace")
    as_json = _cli(tmp_path / "cb.db", "logs", "--trace", TRACE, "--json")
    assert as_json.returncode == 0
    assert_inert(as_json.stdout.replace("\n", ""), "logs --json")
    assert json.loads(as_json.stdout)["logs"][0]["attributes"]["nested"] == {"k": ""}


async def test_a_huge_body_is_kept_cut_and_the_request_succeeds(
    url: str, stores: tuple[Store, LogStore]
) -> None:
    limit = LogLimits().max_body
    big = "x" * (4 * MiB)
    rec = {"timeUnixNano": "1", "traceId": TRACE, "body": {"stringValue": big}}
    async with httpx.AsyncClient(timeout=60) as c:
        r = await c.post(url, content=json.dumps(doc("pay", rec)), headers=JS)
    assert r.status_code == 200
    (stored,) = stores[1].logs(LogQuery(trace_id=TRACE))
    assert len(stored.body) == limit + 1 and stored.body.endswith("…")


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (lengths under 2**21 here: three varint bytes)."""
    n, out = len(payload), bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes([number << 3 | 2]) + bytes(out) + payload


def nested_kvlist(depth: int) -> AnyValue:
    """``depth`` kvlists in one another, written by hand: the protobuf library refuses to
    build (or parse) deeper than ~100 messages, a hostile sender need not."""
    v = field(1, b"bottom")  # AnyValue.string_value
    for i in range(depth):  # AnyValue.kvlist_value = KeyValueList{values: [KeyValue{key, value}]}
        v = field(6, field(1, field(1, f"k{i}".encode()) + field(2, v)))
    return AnyValue.FromString(v) if depth < 30 else _Raw(v)  # type: ignore[return-value]


class _Raw:
    """Bytes standing in for an AnyValue the library cannot hold."""

    def __init__(self, data: bytes) -> None:
        self.data = data


def pb_logs(body: AnyValue | _Raw) -> bytes:
    """An ExportLogsServiceRequest of one record with ``body``, as the wire has it."""
    raw = body.data if isinstance(body, _Raw) else body.SerializeToString()
    record = field(5, raw) + field(9, bytes.fromhex(TRACE))  # LogRecord.body, .trace_id
    return field(1, field(2, field(2, record)))  # resource_logs → scope_logs → log_records


async def test_deep_kvlists_render_bounded_or_are_refused(
    url: str, stores: tuple[Store, LogStore]
) -> None:
    levels = 20_000  # as text: json.dumps itself cannot write it
    deep_json = (
        '{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": '
        + '{"kvlistValue": {"values": [{"key": "k", "value": ' * levels
        + '{"stringValue": "bottom"}'
        + "}]}}" * levels
        + "}]}]}]}"
    )
    async with httpx.AsyncClient(timeout=60) as c:
        shallow = await c.post(url, content=pb_logs(nested_kvlist(12)), headers=PB)
        too_deep = await c.post(url, content=pb_logs(nested_kvlist(60)), headers=PB)
        json_deep = await c.post(
            url,
            content=deep_json,
            headers=JS,
        )
        after = await c.post(url, content=pb_logs(AnyValue(string_value="still up")), headers=PB)
    assert shallow.status_code == 200
    assert too_deep.status_code == 400 and json_deep.status_code == 400
    assert after.status_code == 200
    bodies = [r.body for r in stores[1].logs(LogQuery(trace_id=TRACE))]
    assert bodies[0] == "still up"
    shown = bodies[1]
    assert shown.count("{") == LogLimits().max_body_depth + 1  # the levels, then {…}
    assert shown.endswith("{…}}}}}}}}}") and "bottom" not in shown


def test_a_wide_kvlist_body_renders_within_the_body_limit() -> None:
    wide = AnyValue(
        kvlist_value=KeyValueList(
            values=[
                KeyValue(key=f"key{i}", value=AnyValue(string_value="v" * 50)) for i in range(5000)
            ]
        )
    )
    limits = LogLimits(max_body=4096)
    batch = decode_logs_body(
        pb_logs(wide), PB["Content-Type"], gzip=False, max_decoded=0, limits=limits
    )
    (rec,) = batch.records
    assert len(rec.body) == 4097 and rec.body.startswith('{"key0": "vvv') and rec.body.endswith("…")


async def test_amplification_is_refused_with_bounded_memory(
    url: str, stores: tuple[Store, LogStore]
) -> None:
    body = b"\x0a\x00" * (8 * MiB - 16)  # empty ResourceLogs: two bytes each
    async with httpx.AsyncClient(timeout=120) as c:
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            r = await c.post(url, content=body, headers=PB)
            grown = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
    assert r.status_code == 400 and b"send smaller batches" in r.content
    assert grown < 10 * len(body), f"{grown / len(body):.1f}× the body"
    assert stores[1].count() == 0


def test_fuzzed_protobuf_and_json_never_raise_an_untyped_error() -> None:
    rng = random.Random(15)
    good = pb_logs(nested_kvlist(3))
    good_json = json.dumps(doc("pay", hostile_record(1))).encode()
    limits = LogLimits()
    for i in range(3000):
        src, ctype = (good, PB["Content-Type"]) if i % 2 else (good_json, JS["Content-Type"])
        data = bytearray(src)
        for _ in range(rng.randint(1, 8)):
            op = rng.random()
            pos = rng.randrange(len(data))
            if op < 0.4:
                data[pos] = rng.randrange(256)
            elif op < 0.7:
                del data[pos : pos + rng.randint(1, 8)]
            else:
                data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        try:
            decode_logs_body(bytes(data), ctype, gzip=False, max_decoded=0, limits=limits)
        except HttpError as exc:
            assert exc.status == 400


async def test_the_logs_screen_shows_hostile_records_inert(
    url: str, stores: tuple[Store, LogStore]
) -> None:
    from console.config import OtlpConfig
    from console.engine.fleet.build import embedded_traces
    from console.tui.app import CallboardApp
    from console.tui.logview import for_trace
    from console.tui.screens.logs import LogsScreen
    from tests.tui_helpers import demo_fleet

    body = doc("checkout", hostile_record(7))
    async with httpx.AsyncClient() as c:
        r = await c.post(url, content=json.dumps(body), headers=JS)
    assert r.status_code == 200
    fleet = demo_fleet()
    fleet.backends.insert(0, embedded_traces(stores[0], OtlpConfig()))
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=(120, 30)) as pilot:
        screen = LogsScreen(for_trace(TRACE, "checkout", 0, 0))
        await app.push_screen(screen)
        await pilot.pause()
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert screen.table.row_count == 1
        painted = [
            "".join(seg.text for seg in screen.table.render_line(y))
            for y in range(screen.table.size.height)
        ]
        assert any("[bold red]not markup[/]" in line for line in painted)  # text, not style
        for line in painted:
            assert_inert(line, "the logs table")
        detail = screen.query_one("#logs-detail").render()
        assert "second line" in str(detail)
        assert_inert(str(detail).replace("\n", ""), "the record's detail")
