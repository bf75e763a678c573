"""``callboard otlp serve``: the embedded OTLP/HTTP receiver (traces, logs), in the foreground."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import click

from console.context import AppContext

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@click.group()
def otlp() -> None:
    """The embedded OTLP/HTTP receiver (traces and logs)."""


@otlp.command()
@click.option(
    "--host", default=None, help="Address to listen on (default: config otlp.host, 127.0.0.1)."
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="TCP port (default: config otlp.port, 4318; 0 picks a free one).",
)
@click.pass_obj
def serve(app: AppContext, host: str | None, port: int | None) -> int:
    """Receive spans on POST /v1/traces, metrics on POST /v1/metrics and logs on POST /v1/logs
    (protobuf or JSON) until Ctrl-C."""
    from console.engine.otlp.logstore import LogStore
    from console.engine.otlp.receiver import OtlpReceiver
    from console.engine.otlp.spanstore import SpanStore

    cfg = app.config.otlp
    spans = SpanStore(app.local_store, max_spans=cfg.max_spans, max_age_s=cfg.max_age_seconds)
    logs = LogStore(spans.store, max_records=cfg.max_logs, max_age_s=cfg.max_age_seconds)
    receiver = OtlpReceiver(
        spans, host=host or cfg.host, port=cfg.port if port is None else port, logs=logs
    )
    from console.engine.otlp.child import tune_for_decoding

    tune_for_decoding()  # the receiver has this process to itself
    try:
        asyncio.run(_serve(receiver, app.local_store.path))
    except OSError as exc:
        click.echo(
            f"error: cannot listen on {receiver.host}:{receiver.port}: {exc.strerror or exc}",
            err=True,
        )
        return 1
    except KeyboardInterrupt:
        pass
    s = receiver.stats
    click.echo(
        f"stopped: {s.requests} requests, {s.spans_accepted} spans stored, {s.spans_rejected} rejected"
        f"; {s.points_accepted} metric points, {s.points_rejected} rejected"
        f"; {s.logs_accepted} log records stored, {s.logs_rejected} rejected"
    )
    return 0


async def _serve(receiver: object, db: str) -> None:
    from console.engine.otlp.receiver import OtlpReceiver

    assert isinstance(receiver, OtlpReceiver)
    await asyncio.to_thread(receiver.spans.prune)  # apply the age cap to what is already stored
    if receiver.logs is not None:
        await asyncio.to_thread(receiver.logs.prune)
    host, port = await receiver.start()
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"OTLP/HTTP receiver listening on http://{shown}:{port}/v1/traces "
        f"(and /v1/metrics, /v1/logs; store: {db})",
    )
    if receiver.host not in LOOPBACK:
        click.echo(
            "warning: not bound to loopback; anyone who can reach this port can send spans",
            err=True,
        )
    click.echo("Ctrl-C stops it.")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await stop.wait()
    finally:
        await receiver.stop()


COMMANDS = [otlp]
