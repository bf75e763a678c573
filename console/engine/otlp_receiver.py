"""The embedded OTLP/HTTP trace receiver: ``POST /v1/traces``, protobuf or JSON, gzip.

Why asyncio (``asyncio.start_server``) and a small HTTP/1.1 parser rather than
``http.server`` in a thread: the TUI already runs an event loop, so the receiver lives in
it with no thread to stop and no cross-thread hand-off; back-pressure is one counter; and
the parser is strict by construction — a bounded header block (431), ``Content-Length``
or chunked required (411), both at once refused (400, a smuggling guard), the body limit
checked before reading (413), keep-alive with an idle timeout and a per-connection request
cap. SQLite writes run in a worker thread (``asyncio.to_thread``) so a slow disk never
stalls the loop.

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
from dataclasses import dataclass, field
from typing import Any

from console.core.otlp import SpanBatch, parse_resource_spans
from console.engine.http11 import (
    REASONS,
    HttpError,
    content_type,
    gunzip,
    keep_alive,
    parse_head,
    read_chunked,
)
from console.engine.otlp_proto import decode_export_request, encode_export_response, encode_status
from console.engine.spanstore import SpanStore

PATH = "/v1/traces"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
GRPC_CODE = {400: 3, 404: 5, 405: 12, 411: 3, 413: 8, 415: 3, 431: 8, 503: 14}


@dataclass
class ReceiverLimits:
    """Bounds that keep a misbehaving sender from hurting the console."""

    max_body: int = 64 * 1024 * 1024  # the spec's recommended limit; also caps gzip output
    max_header: int = 16 * 1024
    max_pending_spans: int = 200_000  # decoded but not yet written → 503 beyond this
    max_connections: int = 64
    idle_timeout: float = 30.0
    body_timeout: float = 120.0
    max_requests_per_connection: int = 10_000
    retry_after_s: int = 1


@dataclass
class ReceiverStats:
    """Counters shown by ``otlp serve`` when it stops."""

    requests: int = 0
    spans_accepted: int = 0
    spans_rejected: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


class OtlpReceiver:
    """Receives OTLP/HTTP spans into a :class:`SpanStore`. Binds loopback unless told."""

    def __init__(
        self,
        spans: SpanStore,
        host: str = "127.0.0.1",
        port: int = 4318,
        limits: ReceiverLimits | None = None,
    ) -> None:
        self.spans = spans
        self.host = host
        self.port = port
        self.limits = limits or ReceiverLimits()
        self.stats = ReceiverStats()
        self._server: asyncio.Server | None = None
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
            if target.split("?", 1)[0] != PATH:
                raise HttpError(404, f"no such path; send traces to POST {PATH}", close=True)
            if method != "POST":
                raise HttpError(405, f"use POST {PATH}", close=True)
            if ctype not in (PROTOBUF, JSON):
                raise HttpError(415, f"Content-Type must be {PROTOBUF} or {JSON}", close=True)
            encoding = headers.get("content-encoding", "identity").strip().lower()
            if encoding not in ("identity", "gzip"):
                raise HttpError(
                    415, f"unsupported Content-Encoding {encoding!r} (gzip or none)", close=True
                )
            if headers.get("expect", "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = await asyncio.wait_for(
                self._read_body(reader, headers), self.limits.body_timeout
            )
            if encoding == "gzip":
                body = gunzip(body, self.limits.max_body)
            status, payload = await self._export(body, ctype)
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
            async with asyncio.timeout(2.0):
                while budget > 0 and (chunk := await reader.read(65536)):
                    budget -= len(chunk)

    async def _read_body(self, reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
        limit = self.limits.max_body
        te = headers.get("transfer-encoding")
        cl = headers.get("content-length")
        if te is not None and cl is not None:
            raise HttpError(400, "both Transfer-Encoding and Content-Length", close=True)
        if te is not None:
            if te.strip().lower() != "chunked":
                raise HttpError(400, f"unsupported Transfer-Encoding {te!r}", close=True)
            return await read_chunked(reader, limit)
        if cl is None:
            raise HttpError(411, "Content-Length or chunked encoding required", close=True)
        if not cl.strip().isdigit():
            raise HttpError(400, "bad Content-Length", close=True)
        length = int(cl)
        if length > limit:
            raise HttpError(
                413, f"body of {length} bytes is over the {limit}-byte limit", close=True
            )
        return await reader.readexactly(length)

    async def _export(self, body: bytes, ctype: str) -> tuple[int, bytes]:
        batch = _decode(body, ctype)
        n = len(batch.spans)
        if self._pending + n > self.limits.max_pending_spans:
            raise HttpError(503, "receiver busy; retry later", retry=True)
        self._pending += n
        try:
            await asyncio.to_thread(self.spans.add, batch.spans)
        except Exception as exc:  # the store failed: nothing was written, so let the client retry
            raise HttpError(
                503, f"could not store spans: {type(exc).__name__}", retry=True
            ) from exc
        finally:
            self._pending -= n
        self.stats.spans_accepted += n
        self.stats.spans_rejected += batch.rejected
        message = "; ".join(batch.errors)
        if ctype == PROTOBUF:
            return 200, encode_export_response(batch.rejected, message if batch.rejected else "")
        if not batch.rejected:
            return 200, b"{}"
        partial = {"rejectedSpans": str(batch.rejected), "errorMessage": message}
        return 200, json.dumps({"partialSuccess": partial}).encode()

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


def _decode(body: bytes, ctype: str) -> SpanBatch:
    """The request body → spans; undecodable data raises HttpError(400)."""
    try:
        if ctype == PROTOBUF:
            return parse_resource_spans(
                decode_export_request(body)["resourceSpans"], id_encoding="auto"
            )
        doc: Any = json.loads(body)
        if not isinstance(doc, dict):
            raise ValueError("the body is not a JSON object")
        return parse_resource_spans(doc.get("resourceSpans"), id_encoding="hex")
    except (ValueError, RecursionError, TypeError, AttributeError) as exc:
        what = "protobuf ExportTraceServiceRequest" if ctype == PROTOBUF else "OTLP JSON"
        raise HttpError(400, f"not a valid {what}: {exc}") from None
