"""A minimal, strict HTTP/1.1 request reader for the embedded OTLP receiver.

Only what a receiver needs: the request head (bounded by the stream's limit), headers
without folding, ``Content-Length`` or ``chunked`` bodies with a size cap, and
:class:`HttpError` carrying the status to answer with. (gzip, capped on the *decompressed*
size, is in ``otlp_decode``: it runs off the event loop.)
"""

from __future__ import annotations

import asyncio

REASONS = {
    200: "OK",
    100: "Continue",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


class HttpError(Exception):
    """An error response; ``close`` drops the connection afterwards (body not read)."""

    def __init__(self, status: int, message: str, *, close: bool = False, retry: bool = False):
        super().__init__(message)
        self.status, self.message, self.close, self.retry = status, message, close, retry


def parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        raise HttpError(400, "bad request head", close=True) from None
    lines = text[:-4].split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0") or not parts[1].startswith("/"):
        raise HttpError(400, "bad request line", close=True)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or line[:1] in (" ", "\t"):
            raise HttpError(400, "bad header line", close=True)
        key = name.lower()
        if key in headers and key in ("content-length", "transfer-encoding", "content-type"):
            raise HttpError(400, f"repeated {name} header", close=True)
        headers[key] = value.strip()
    return parts[0], parts[1], parts[2], headers


def keep_alive(version: str, headers: dict[str, str]) -> bool:
    conn = headers.get("connection", "").lower()
    return "keep-alive" in conn if version == "HTTP/1.0" else "close" not in conn


def content_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


async def read_chunked(reader: asyncio.StreamReader, limit: int) -> bytes:
    body = bytearray()
    while True:  # bounded: every chunk adds bytes and the total is capped by ``limit``
        line = await reader.readuntil(b"\r\n")
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise HttpError(400, "bad chunk size", close=True) from None
        if size == 0:
            for _ in range(64):  # trailers, bounded
                if await reader.readuntil(b"\r\n") == b"\r\n":
                    return bytes(body)
            raise HttpError(400, "too many trailers", close=True)
        if len(body) + size > limit:
            raise HttpError(413, f"body is over the {limit}-byte limit", close=True)
        body += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise HttpError(400, "chunk not terminated by CRLF", close=True)


def body_length(headers: dict[str, str]) -> int | None:
    """Content-Length, or None for a chunked body; the framing errors as HttpError."""
    te = headers.get("transfer-encoding")
    cl = headers.get("content-length")
    if te is not None and cl is not None:
        raise HttpError(400, "both Transfer-Encoding and Content-Length", close=True)
    if te is not None:
        if te.strip().lower() != "chunked":
            raise HttpError(400, f"unsupported Transfer-Encoding {te!r}", close=True)
        return None
    if cl is None:
        raise HttpError(411, "Content-Length or chunked encoding required", close=True)
    if not cl.strip().isdigit():
        raise HttpError(400, "bad Content-Length", close=True)
    return int(cl)
