"""The embedded OTLP receiver, run by the console while it is open (``otlp.enabled``).

A busy port is not fatal: the header says so and everything else works.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from console.context import AppContext
    from console.engine.otlp_receiver import OtlpReceiver


async def start_receiver(context: AppContext) -> tuple[OtlpReceiver | None, str, bool]:
    """Start the receiver the config asks for: (receiver or None, header note, ok)."""
    cfg = context.config.otlp
    if not cfg.enabled:
        return None, "", True
    from console.engine.otlp_receiver import OtlpReceiver
    from console.engine.spanstore import SpanStore

    spans = SpanStore(context.store, max_spans=cfg.max_spans, max_age_s=cfg.max_age_seconds)
    receiver = OtlpReceiver(spans, host=cfg.host, port=cfg.port)
    try:
        host, port = await receiver.start()
    except OSError as exc:
        reason = "busy" if getattr(exc, "errno", None) == 98 else (exc.strerror or str(exc))
        return None, f"OTLP {cfg.host}:{cfg.port} {reason}", False
    return receiver, f"OTLP ← {host}:{port}", True
