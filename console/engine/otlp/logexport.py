"""``POST /v1/logs`` on the embedded receiver: one decoded body into the log store.

The receiver (:mod:`console.engine.otlp.receiver`) reads and bounds the body exactly as
for traces — the same limits, memory budget, status codes and decode pool — and hands it
here. The rules are the trace export's: 200 with an empty ``ExportLogsServiceResponse`` on
success; 200 with ``partial_success.rejected_log_records`` when some records were invalid;
400 for an undecodable body; 503 with ``Retry-After`` when too much is waiting to be
written or the store cannot write (nothing was stored: the client retries).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from console.engine.otlp.decode import PROTOBUF
from console.engine.otlp.http11 import HttpError
from console.engine.otlp.logdecode import decode_logs_body
from console.engine.otlp.logproto import encode_logs_response

if TYPE_CHECKING:
    from console.core.otlp_logs import LogBatch


async def export_logs(
    receiver: Any, body: bytes | bytearray, ctype: str, gzip_room: int
) -> tuple[int, bytes]:
    """Decode (in the receiver's pool), store (in a thread) and answer one logs request.

    ``receiver`` is the :class:`~console.engine.otlp.receiver.OtlpReceiver` (typed Any:
    the receiver imports this module, and no import runs the other way)."""
    store = receiver.logs
    assert store is not None, "the receiver serves /v1/logs only with a log store"
    batch: LogBatch = await receiver._decode(
        body,
        ctype,
        gzip_room,
        decoder=receiver.log_decoder or decode_logs_body,
        limits=receiver.limits.logs,
    )
    n = len(batch.records)
    if receiver._pending + n > receiver.limits.max_pending_spans:
        raise HttpError(503, "receiver busy; retry later", retry=True)
    receiver._pending += n
    try:
        await asyncio.to_thread(store.add, batch.records)
    except Exception as exc:  # nothing was written: let the client retry
        raise HttpError(
            503, f"could not store log records: {type(exc).__name__}", retry=True
        ) from exc
    finally:
        receiver._pending -= n
    receiver.stats.logs_accepted += n
    receiver.stats.logs_rejected += batch.rejected
    message = "; ".join(batch.errors)
    if ctype == PROTOBUF:
        return 200, encode_logs_response(batch.rejected, message if batch.rejected else "")
    if not batch.rejected:
        return 200, b"{}"
    partial = {"rejectedLogRecords": str(batch.rejected), "errorMessage": message}
    return 200, json.dumps({"partialSuccess": partial}).encode()
