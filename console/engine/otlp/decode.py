"""One OTLP request body → a :class:`SpanBatch`, bounded; run off the event loop.

Everything CPU- or memory-heavy about a request happens here — gunzip, protobuf or JSON
decoding, mapping to spans — so the receiver calls it in a worker thread
(``OtlpReceiver._decode``) and its event loop keeps answering other requests meanwhile.
Every step is bounded before it allocates: gunzip stops at ``max_decoded`` bytes, the
protobuf decoder counts objects against :class:`DecodeLimits` before building them, and a
JSON body's ``{`` ``[`` ``,`` bytes are counted (C speed) before ``json.loads`` runs.

Errors are :class:`HttpError` only: 400 for undecodable or over-limit data (retrying cannot
help), 413 for a decompressed body over the byte limit.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from typing import Any, TypeVar

from console.core.otlp import SpanBatch, parse_resource_spans
from console.core.otlp_limits import DecodeLimits, LimitError, NumberError
from console.engine.otlp.http11 import HttpError
from console.engine.otlp.proto import decode_export_request

T = TypeVar("T")

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


def decode_body(
    body: bytes | bytearray, ctype: str, *, gzip: bool, max_decoded: int, limits: DecodeLimits
) -> SpanBatch:
    """The request body → spans. Raises HttpError (400 or 413) and nothing else."""

    def parse(raw: bytes | bytearray, protobuf: bool) -> SpanBatch:
        if protobuf:
            doc = decode_export_request(raw, limits)
            return parse_resource_spans(doc["resourceSpans"], id_encoding="auto", limits=limits)
        found = json_request(raw, limits.max_json_tokens, "resourceSpans")
        return parse_resource_spans(found, id_encoding="hex", limits=limits)

    return decode_request(
        body, ctype, gzip=gzip, max_decoded=max_decoded,
        protobuf_name="ExportTraceServiceRequest", parse=parse,
    )  # fmt: skip


def decode_request(
    body: bytes | bytearray,
    ctype: str,
    *,
    gzip: bool,
    max_decoded: int,
    protobuf_name: str,
    parse: Callable[[bytes | bytearray, bool], T],
    json_name: str = "OTLP JSON",
) -> T:
    """One signal's request body → its batch: gunzip (bounded), then ``parse(body, is
    protobuf)``, every decoding failure a 400 naming what was sent and every limit a 400
    saying so (413: a decompressed body over ``max_decoded``). Raises HttpError only."""
    if gzip:
        body = gunzip(body, max_decoded)
    what = f"protobuf {protobuf_name}" if ctype == PROTOBUF else json_name
    try:
        return parse(body, ctype == PROTOBUF)
    except (LimitError, NumberError) as exc:
        raise HttpError(400, f"{what} refused: {exc}") from None
    except (ValueError, RecursionError, TypeError, AttributeError, KeyError) as exc:
        raise HttpError(400, f"not a valid {what}: {_short(exc)}") from None


def gunzip(body: bytes | bytearray, limit: int) -> bytes:
    """Decompress at most ``limit`` bytes (a gzip bomb stops there: 413)."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(body, limit + 1)
    except zlib.error:
        raise HttpError(400, "body is not valid gzip") from None
    if len(out) > limit:
        raise HttpError(413, f"decompressed body is over the {limit}-byte limit")
    if not d.eof:
        raise HttpError(400, "gzip body is truncated")
    return out


def json_request(body: bytes | bytearray, max_tokens: int, key: str) -> Any:
    """The JSON body's ``key`` (``resourceSpans``, ``resourceMetrics``, ``resourceLogs``),
    parsed only once its size is known to be within ``max_tokens`` values."""
    # Every value json.loads can allocate sits after a "{", "[" or ","; counting those
    # bytes (inside strings too, so an over-estimate) bounds the parse before it starts.
    tokens = body.count(b"{") + body.count(b"[") + body.count(b",")
    if tokens > max_tokens:
        raise LimitError(
            f"{tokens} JSON values in one request (limit {max_tokens}); send smaller batches"
        )
    doc = json.loads(body, parse_constant=_no_constant, parse_float=_finite_float)
    if not isinstance(doc, dict):
        raise ValueError("the body is not a JSON object")
    return doc.get(key)


def _no_constant(name: str) -> Any:
    raise NumberError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    f = float(text)
    if f in (float("inf"), float("-inf")):
        raise NumberError(f"{text[:40]} is out of the range of a double")
    return f


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "…"
