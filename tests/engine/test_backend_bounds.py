"""A huge, deep or slow-to-parse backend answer is a typed error, bounded in time and size."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from callboard_prometheus import PrometheusPlugin

from console.cli import main
from console.engine.fleet import jsonchunks, resilience
from console.engine.fleet.httpbackend import INLINE_BYTES, MAX_BYTES, HttpBackend
from console.errors import BadResponse, ConfigError
from console.plugin_api import PluginContext

URL = "http://prom.test"
MIB = 1024 * 1024


class Drip(httpx.AsyncByteStream):
    """An answer of ``chunks`` × 64 KiB, counting how much of it was pulled."""

    def __init__(self, chunks: int, fill: bytes = b" ") -> None:
        self.chunks = chunks
        self.fill = fill
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):  # bounded
            self.pulled += 1
            yield self.fill * 65536


def backend(handler: Callable[[httpx.Request], httpx.Response], **opts: object) -> HttpBackend:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return HttpBackend({"url": URL, **opts}, http, lambda n: "")


def test_an_oversized_answer_is_cut_off_early_with_a_typed_error() -> None:
    stream = Drip(chunks=400)  # 25 MiB, no Content-Length
    hb = backend(lambda r: httpx.Response(200, stream=stream), max_response_bytes=MIB)
    with pytest.raises(
        BadResponse, match=r"too large to read: larger than 1 MiB \(max_response_bytes\)"
    ):
        asyncio.run(hb.get_json("/api/v1/query"))
    assert stream.pulled <= MIB // 65536 + 1  # the rest was never read


def test_a_declared_oversized_answer_is_refused_before_reading() -> None:
    stream = Drip(chunks=1)
    hb = backend(
        lambda r: httpx.Response(200, headers={"content-length": str(MAX_BYTES + 1)}, stream=stream)
    )
    with pytest.raises(BadResponse, match="larger than 32 MiB"):
        asyncio.run(hb.get_json("/"))
    assert stream.pulled == 0


def test_the_default_limit_is_32_mib() -> None:
    assert backend(lambda r: httpx.Response(200)).max_bytes == 32 * MIB == MAX_BYTES


@pytest.mark.parametrize("bad", ["abc", 12, True, 2 << 30])
def test_a_bad_max_response_bytes_is_refused(bad: object) -> None:
    with pytest.raises(ConfigError, match="max_response_bytes"):
        backend(lambda r: httpx.Response(200), max_response_bytes=bad)


def test_check_locates_a_bad_max_response_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "backends:\n  - name: p\n    plugin: prometheus\n    url: http://127.0.0.1:9\n"
        "    max_response_bytes: lots\n"
    )
    with pytest.raises(SystemExit) as exc:
        main(["--config", str(cfg), "check"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert f"{cfg}:5: backends[0].max_response_bytes: expected a size in bytes" in err


DEEP = b"[" * 10_000 + b"]" * 10_000


@pytest.mark.parametrize("size", ["small", "large"])
def test_deep_json_is_a_typed_bad_response_not_a_recursion_error(size: str) -> None:
    body = DEEP if size == "small" else DEEP + b" " * (INLINE_BYTES + 1)  # inline / thread
    hb = backend(lambda r: httpx.Response(200, content=body))

    async def go() -> object:
        _, raw, _ = await hb.request("GET", "/")
        return await hb.adecode(raw)

    with pytest.raises(BadResponse, match="nested deeper than") as exc:
        asyncio.run(go())
    assert "RecursionError" not in str(exc.value)


def test_the_prometheus_check_says_nested_too_deep() -> None:
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, content=DEEP))
    )
    ctx = PluginContext(http=http, secret=lambda n: "", clock=lambda: 1.7e9)
    status = asyncio.run(PrometheusPlugin("prom", {"url": URL}, ctx).check())
    assert not status.ok
    assert status.error is not None and "nested deeper than" in status.error
    assert "RecursionError" not in status.error


def test_the_timeout_bounds_parsing_too() -> None:
    """A parse that outlives the call's budget ends the call with the typed timeout, and
    the event loop kept running meanwhile (the parse is in a thread)."""
    release = threading.Event()
    body = b"[" + b"1," * INLINE_BYTES + b"1]"
    hb = backend(lambda r: httpx.Response(200, content=body))
    ticks = 0

    def slow_parse(data: object) -> object:
        release.wait(30.0)  # bounded: the test sets it as soon as the call has timed out
        return data

    async def ticker() -> None:
        nonlocal ticks
        while not release.is_set():  # bounded by the call's timeout below
            ticks += 1
            await asyncio.sleep(0.005)

    async def fetch() -> object:
        _, raw, _ = await hb.request("GET", "/")
        return await hb.aparse(slow_parse, raw, "/")

    async def go() -> None:
        tick = asyncio.create_task(ticker())
        try:
            await resilience.call(fetch, timeout=0.3, attempts=1)
        finally:
            release.set()
            await tick

    with pytest.raises(resilience.CallTimeout, match=r"timed out after 0\.3s"):
        asyncio.run(go())
    assert ticks > 1  # the loop was never blocked by the parse


class _Dripping(BaseHTTPRequestHandler):
    """Headers at once, then the body one byte at a time: a backend that never finishes."""

    stop: threading.Event

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        for _ in range(600):  # bounded; ends early when the client hangs up or the test ends
            if self.stop.wait(0.05):
                return
            try:
                self.wfile.write(b" ")
                self.wfile.flush()
            except OSError:
                return

    def log_message(self, *args: object) -> None:
        pass


def test_status_against_a_dripping_backend_says_timed_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stop = threading.Event()
    handler = type("H", (_Dripping,), {"stop": stop})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        cfg = tmp_path / "c.yaml"
        cfg.write_text(
            "backends:\n  - {name: prom, plugin: prometheus, timeout: 1s,"
            f" url: 'http://127.0.0.1:{server.server_address[1]}'}}\n"
        )
        with pytest.raises(SystemExit):
            main(["--config", str(cfg), "--db", str(tmp_path / "x.db"), "status"])
        out = capsys.readouterr().out
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(10)
    assert "backend prom (prometheus): failing (timed out after 1s)" in out


JSON_CASES = [
    b'{"a": [1, 2.5, {"b": [true, null, {"c": [4, [5, "x\\u00e9"]]}]}], "d": "y"}',
    b" [] ",
    b"{}",
    b'{"k": 1, "k": 2}',
    b"[1,]",
    b'{"a" 1}',
    b"[1] x",
    b"",
    b'"\\ud800"',
    '["caf\u00e9"]'.encode("utf-16"),
]


@pytest.mark.parametrize("body", JSON_CASES)
def test_the_chunked_decoder_agrees_with_json_loads(body: bytes) -> None:
    try:
        expected: object = json.loads(body)
    except ValueError as exc:
        with pytest.raises(type(exc)):
            jsonchunks.loads(body)
    else:
        assert jsonchunks.loads(body) == expected


def test_the_chunked_decoder_agrees_on_real_payloads(fixtures_dir: Path) -> None:
    files = sorted(fixtures_dir.rglob("*.json"))
    assert files
    for f in files:
        assert jsonchunks.loads(f.read_bytes()) == json.loads(f.read_bytes()), f


def test_a_cancelled_decode_stops_between_values() -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(jsonchunks.Cancelled):
        jsonchunks.loads(b"[" + b"1," * 1000 + b"1]", cancel)
