"""The embedded OTLP/HTTP receiver: ``POST /v1/traces`` and ``POST /v1/metrics``
(:mod:`console.engine.otlp.health`), protobuf or JSON, gzip.

Given a log store it takes ``POST /v1/logs`` too, under the same limits and rules
(:mod:`console.engine.otlp.logexport`).

Why asyncio (``asyncio.start_server``) and a small HTTP/1.1 parser rather than
``http.server`` in a thread: the TUI already runs an event loop, so the receiver lives in
it with no thread to stop and no cross-thread hand-off; back-pressure is one counter; and
the parser is strict by construction — a bounded header block (431), ``Content-Length``
or chunked required (411), both at once refused (400, a smuggling guard), the body limit
checked before reading (413), keep-alive with an idle timeout and a per-connection request
cap. SQLite writes run in a worker thread (``asyncio.to_thread``) so a slow disk never
stalls the loop.

Hostile senders are bounded three ways. Decoding (gunzip, protobuf/JSON, mapping) runs in
a thread pool (``otlp_decode``), big bodies at most ``decode_workers`` at a time with one
thread always left for small ones, so a 16 MB body never makes another request wait
behind it. What a body may decode to is capped by :class:`DecodeLimits` (counted before
allocating). And every body in flight is reserved against one ``memory_budget`` before it
is read — its bytes, plus the room gzip may expand it to — so concurrent bodies × size
cannot exceed it: above it the answer is 503 with ``Retry-After`` and the body is not read.

Response semantics follow the OTLP/HTTP spec: 200 with an empty
``ExportTraceServiceResponse`` on success, 200 with ``partial_success`` when some spans
were invalid (never retried by clients), 400 for undecodable data (never a retryable code),
413 over the body limit, 415 for an unsupported content type or encoding, and 503 with
``Retry-After`` when overloaded or when the store cannot write (so nothing is lost: the
client retries). Error bodies are ``google.rpc.Status`` in the request's content type.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from console.core.otlp import SpanBatch
from console.core.otlp_limits import DecodeLimits
from console.core.otlp_logs import LogLimits
from console.engine.otlp.budget import MemoryBudget
from console.engine.otlp.decode import JSON, PROTOBUF, decode_body
from console.engine.otlp.decode_metrics import decode_metrics_body
from console.engine.otlp.exports import METRICS, SPANS, Signal
from console.engine.otlp.health import HealthStore
from console.engine.otlp.http11 import (
    REASONS,
    HttpError,
    body_length,
    content_type,
    keep_alive,
    parse_head,
    read_chunked,
)
from console.engine.otlp.logexport import export_logs
from console.engine.otlp.proto import encode_status
from console.engine.otlp.spanstore import SpanStore

if TYPE_CHECKING:
    from console.core.otlp_logs import LogBatch
    from console.engine.otlp.logstore import LogStore

PATH = "/v1/traces"
METRICS_PATH = "/v1/metrics"
LOGS_PATH = "/v1/logs"  # served when the receiver has a log store (logexport.py)
GRPC_CODE = {400: 3, 404: 5, 405: 12, 411: 3, 413: 8, 415: 3, 429: 8, 431: 8, 503: 14}
MiB = 1024 * 1024


@dataclass
class ReceiverLimits:
    """Bounds that keep a misbehaving sender from hurting the console."""

    max_body: int = 16 * MiB  # bytes on the wire
    max_decoded: int | None = None  # bytes after gunzip, None: 2 × max_body (a bomb → 413)
    memory_budget: int = 128 * MiB  # all bodies in flight, with their gzip room → 503 above
    decode_workers: int = 1  # big bodies decoded at once (+1 thread for small ones); the GIL
    # makes more threads no faster, only more memory at once
    small_body: int = 256 * 1024  # at most this: never waits for a big body's decode slot
    decode: DecodeLimits = field(default_factory=DecodeLimits)
    logs: LogLimits = field(default_factory=LogLimits)  # what a /v1/logs body may decode to
    max_header: int = 16 * 1024
    max_pending_spans: int = 200_000  # decoded but not yet written (spans + log records) → 503
    max_connections: int = 64
    idle_timeout: float = 30.0
    body_timeout: float = 120.0
    max_requests_per_connection: int = 10_000
    retry_after_s: int = 1

    @property
    def decoded_limit(self) -> int:
        """The most bytes a gzip body may decompress to."""
        return 2 * self.max_body if self.max_decoded is None else self.max_decoded


@dataclass
class ReceiverStats:
    """Counters shown by ``otlp serve`` when it stops."""

    requests: int = 0
    spans_accepted: int = 0
    spans_rejected: int = 0
    points_accepted: int = 0
    points_rejected: int = 0
    logs_accepted: int = 0
    logs_rejected: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


class OtlpReceiver:
    """Receives OTLP/HTTP spans into a :class:`SpanStore`. Binds loopback unless told."""

    def __init__(
        self,
        spans: SpanStore,
        host: str = "127.0.0.1",
        port: int = 4318,
        limits: ReceiverLimits | None = None,
        decoder: Callable[..., SpanBatch] = decode_body,
        health: HealthStore | None = None,
        logs: LogStore | None = None,
        log_decoder: Callable[..., LogBatch] | None = None,
    ) -> None:
        self.spans = spans
        #: function health from metrics and spans (console/engine/otlp/health.py), in the
        #: span store's store
        self.health = health if health is not None else HealthStore(spans.store)
        #: Where ``POST /v1/logs`` records go; None: that path is a 404.
        self.logs = logs
        self.log_decoder = log_decoder
        #: ``otlp_decode.decode_body``, run in the pool (tests wrap it to observe ordering)
        self.decoder = decoder
        self.host = host
        self.port = port
        self.limits = limits or ReceiverLimits()
        self.stats = ReceiverStats()
        self._server: asyncio.Server | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._big: asyncio.Semaphore | None = None
        self._budget = MemoryBudget(self.limits.memory_budget, self.limits.small_body)
        self._pending = 0
        self._connections = 0
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> tuple[str, int]:
        """Start listening; returns the bound (host, port) — port 0 picks a free one.

        Raises: OSError when the address is in use or not allowed.
        """
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, limit=self.limits.max_header
        )
        workers = max(1, self.limits.decode_workers)
        self._pool = ThreadPoolExecutor(workers + 1, thread_name_prefix="otlp-decode")
        self._big = asyncio.Semaphore(workers)
        host, port = self._server.sockets[0].getsockname()[:2]
        self.port = port
        return host, port

    async def stop(self) -> None:
        """Stop accepting and close open connections."""
        if self._server is not None:
            self._server.close()
            for w in list(self._writers):
                w.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5.0)
            self._server = None
        if self._pool is not None:
            # a decode already running finishes on its own (bounded by the limits)
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    # -- one connection ------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections += 1
        self._writers.add(writer)
        try:
            if self._connections > self.limits.max_connections:
                await self._respond(
                    writer,
                    503,
                    JSON,
                    self._status_body(503, "too many connections", JSON),
                    close=True,
                    retry=True,
                )
                return
            for _ in range(self.limits.max_requests_per_connection):
                if not await self._one_request(reader, writer):
                    break
        except (
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
        ):
            pass  # the client went away, stalled, or sent an oversized chunk line: drop it
        except asyncio.CancelledError:
            # the loop is closing under an open connection (the app quit mid-request): this
            # task is the connection's root, so end it quietly instead of asyncio logging it
            pass
        finally:
            self._connections -= 1
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Serve one request; returns whether the connection stays open."""
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.limits.idle_timeout)
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                await self._error(
                    writer, HttpError(400, "incomplete request head", close=True), JSON
                )
            return False
        except asyncio.LimitOverrunError:
            await self._error(
                writer, HttpError(431, "request header block too large", close=True), JSON
            )
            return False
        self.stats.requests += 1
        ctype = JSON
        try:
            method, target, version, headers = parse_head(head)
            keep = keep_alive(version, headers)
            ctype = content_type(headers.get("content-type", ""))
            path = target.split("?", 1)[0]
            if path not in (PATH, METRICS_PATH) and not (
                path == LOGS_PATH and self.logs is not None
            ):
                sent = f"{PATH}, {METRICS_PATH}" + (f" or {LOGS_PATH}" if self.logs else "")
                raise HttpError(404, f"no such path; send to POST {sent}", close=True)
            if method != "POST":
                raise HttpError(405, f"use POST {path}", close=True)
            if ctype not in (PROTOBUF, JSON):
                raise HttpError(415, f"Content-Type must be {PROTOBUF} or {JSON}", close=True)
            encoding = headers.get("content-encoding", "identity").strip().lower()
            if encoding not in ("identity", "gzip"):
                raise HttpError(
                    415, f"unsupported Content-Encoding {encoding!r} (gzip or none)", close=True
                )
            length = body_length(headers)
            if length is not None and length > self.limits.max_body:
                raise HttpError(
                    413,
                    f"body of {length} bytes is over the {self.limits.max_body}-byte limit",
                    close=True,
                )
            # a chunked body's size is unknown: it may use what is left, up to max_body
            reserved = self._budget.reserve(length, self.limits.max_body)
            try:
                if headers.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = await asyncio.wait_for(
                    self._read_body(reader, length, reserved), self.limits.body_timeout
                )
                self._budget.release(reserved - len(body))  # a chunked body reserved up to its cap
                reserved = len(body)
                room = 0
                if encoding == "gzip":
                    room = self._budget.reserve(None, self.limits.decoded_limit)
                    reserved += room
                if path == METRICS_PATH:
                    status, payload = await self._export_metrics(body, ctype, room)
                elif path == LOGS_PATH:
                    status, payload = await export_logs(self, body, ctype, room)
                else:
                    status, payload = await self._export(body, ctype, room)
            finally:
                self._budget.release(reserved)
        except HttpError as exc:
            await self._error(writer, exc, ctype)
            if exc.close:
                await self._linger(reader, writer)
            return not exc.close
        await self._respond(writer, status, ctype, payload, close=not keep)
        return keep

    async def _linger(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read and drop what the client is still sending (bounded), so closing with unread
        data does not reset the connection before it has read our error response."""
        with contextlib.suppress(Exception):
            writer.write_eof()
            budget = self.limits.max_body
            async with asyncio.timeout(10.0):  # long enough for a big body on a slow link
                while budget > 0 and (chunk := await reader.read(65536)):
                    budget -= len(chunk)

    async def _read_body(
        self, reader: asyncio.StreamReader, length: int | None, reserved: int
    ) -> bytes | bytearray:
        """The body; ``reserved`` is what the budget granted (a chunked body over it, but
        within ``max_body``, is a 503: the budget, not the body, is the problem)."""
        if length is None:
            try:
                return await read_chunked(reader, reserved)
            except HttpError as exc:
                if exc.status == 413 and reserved < self.limits.max_body:
                    raise HttpError(
                        503, "receiver busy; retry later", close=True, retry=True
                    ) from None
                raise
        # Into one buffer of the announced size, a slice at a time: ``readexactly`` would
        # hold the body twice (the stream's buffer and the copy it returns).
        body = bytearray(length)
        view = memoryview(body)
        got = 0
        while got < length:
            chunk = await reader.read(min(length - got, 1 << 20))
            if not chunk:
                raise asyncio.IncompleteReadError(b"", length)
            view[got : got + len(chunk)] = chunk
            got += len(chunk)
        view.release()
        return body  # a bytearray: every decoder step takes it without a copy

    async def _export(
        self, body: bytes | bytearray, ctype: str, gzip_room: int
    ) -> tuple[int, bytes]:
        batch = await self._decode(body, ctype, gzip_room)
        spans = batch.spans
        answer = await self.store_batch(
            len(spans), lambda: self._store_spans(spans), SPANS, batch.rejected, batch.errors, ctype
        )
        self.stats.spans_accepted += len(spans)
        self.stats.spans_rejected += batch.rejected
        return answer

    def _store_spans(self, spans: list[Any]) -> None:
        self.spans.add(spans)
        self.health.add_spans(spans)

    async def _export_metrics(
        self, body: bytes | bytearray, ctype: str, gzip_room: int
    ) -> tuple[int, bytes]:
        batch = await self._decode(body, ctype, gzip_room, decode_metrics_body)
        points = batch.points
        answer = await self.store_batch(
            len(points), lambda: self.health.add_points(points), METRICS, batch.rejected,
            batch.errors, ctype,
        )  # fmt: skip
        self.stats.points_accepted += len(points)
        self.stats.points_rejected += batch.rejected
        return answer

    async def store_batch(
        self,
        n: int,
        store: Callable[[], object],
        signal: Signal,
        rejected: int,
        errors: list[str],
        ctype: str,
    ) -> tuple[int, bytes]:
        """Store one decoded request's ``n`` items (``store``, in a thread) and answer it,
        the same for every signal: 503 + Retry-After when more than ``max_pending_spans``
        items would wait or when the store fails (nothing was written: the client retries),
        else 200 with ``partial_success`` naming the ``rejected`` items."""
        if self._pending + n > self.limits.max_pending_spans:
            raise HttpError(503, "receiver busy; retry later", retry=True)
        self._pending += n
        try:
            await asyncio.to_thread(store)
        except Exception as exc:  # the store failed: nothing was written, so let the client retry
            raise HttpError(
                503, f"could not store {signal.what}: {type(exc).__name__}", retry=True
            ) from exc
        finally:
            self._pending -= n
        message = "; ".join(errors)
        if ctype == PROTOBUF:
            return 200, signal.encode(rejected, message if rejected else "")
        if not rejected:
            return 200, b"{}"
        partial = {signal.rejected_key: str(rejected), "errorMessage": message}
        return 200, json.dumps({"partialSuccess": partial}).encode()

    async def _decode(
        self,
        body: bytes | bytearray,
        ctype: str,
        gzip_room: int,
        decoder: Callable[..., Any] | None = None,
        limits: Any = None,
    ) -> Any:
        """Decode in the thread pool; a big body first waits for one of the big slots.
        ``decoder``/``limits``: another signal's (logs); the trace decoder by default."""
        assert self._pool is not None and self._big is not None, "start() first"
        loop = asyncio.get_running_loop()
        gzip = gzip_room > 0
        small = len(body) <= self.limits.small_body and not gzip
        slot = contextlib.nullcontext() if small else self._big
        async with slot:
            try:
                return await loop.run_in_executor(
                    self._pool,
                    lambda: (decoder or self.decoder)(
                        body,
                        ctype,
                        gzip=gzip,
                        max_decoded=gzip_room,
                        limits=self.limits.decode if limits is None else limits,
                    ),
                )
            except HttpError as exc:
                if exc.status == 413 and gzip_room < self.limits.decoded_limit:
                    # the budget granted less room than the limit: retrying later can work
                    raise HttpError(503, "receiver busy; retry later", retry=True) from None
                raise

    # -- responses ----------------------------------------------------------------------

    def _status_body(self, status: int, message: str, ctype: str) -> bytes:
        code = GRPC_CODE.get(status, 2)
        if ctype == PROTOBUF:
            return encode_status(code, message)
        return json.dumps({"code": code, "message": message}).encode()

    async def _error(self, writer: asyncio.StreamWriter, exc: HttpError, ctype: str) -> None:
        ctype = ctype if ctype in (PROTOBUF, JSON) else JSON
        body = self._status_body(exc.status, exc.message, ctype)
        extra = {"Allow": "POST"} if exc.status == 405 else {}
        await self._respond(
            writer, exc.status, ctype, body, close=exc.close, retry=exc.retry, extra=extra
        )

    async def _respond(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        ctype: str,
        body: bytes,
        *,
        close: bool,
        retry: bool = False,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.stats.by_status[status] = self.stats.by_status.get(status, 0) + 1
        lines = [
            f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}",
            f"Content-Type: {ctype}",
            f"Content-Length: {len(body)}",
        ]
        if retry:
            lines.append(f"Retry-After: {self.limits.retry_after_s}")
        if close:
            lines.append("Connection: close")
        lines.extend(f"{k}: {v}" for k, v in (extra or {}).items())
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
