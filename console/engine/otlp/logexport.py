"""``POST /v1/logs`` on the embedded receiver: one decoded body into the log store.

The receiver (:mod:`console.engine.otlp.receiver`) reads and bounds the body exactly as
for traces — the same limits, memory budget, status codes and decode pool — and hands it
here. The rules are the trace export's: 200 with an empty ``ExportLogsServiceResponse`` on
success; 200 with ``partial_success.rejected_log_records`` when some records were invalid;
400 for an undecodable body; 503 with ``Retry-After`` when too much is waiting to be
written or the store cannot write (nothing was stored: the client retries).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from console.engine.otlp.exports import LOGS
from console.engine.otlp.logdecode import decode_logs_body

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
    records = batch.records
    answer: tuple[int, bytes] = await receiver.store_batch(
        len(records), lambda: store.add(records), LOGS, batch.rejected, batch.errors, ctype
    )
    receiver.stats.logs_accepted += len(records)
    receiver.stats.logs_rejected += batch.rejected
    return answer
