"""The OTLP receiver as a child process of the console (``python -m console.engine.otlp.child``).

Why a process: decoding is pure Python, so in a thread it still shares the console's GIL;
a sender posting big batches (hostile or not) would slow every key. In its own process
the receiver has its own interpreter and the operating system shares the cores.

Protocol with the parent (``console.tui.receiver.ReceiverProcess``): one line on stdout,
``listening HOST PORT`` or ``error ERRNO MESSAGE``; the child stops when its stdin closes
(the console quit, or died) or on SIGTERM. Spans go into the same SQLite file the console
reads (WAL mode: one writer, readers never blocked).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import signal
import stat
import sys
from typing import Any

from console.engine.otlp.logstore import LogStore
from console.engine.otlp.receiver import OtlpReceiver
from console.engine.otlp.spanstore import SpanStore
from console.engine.store.sqlite import Store


async def _run(args: argparse.Namespace) -> int:
    spans = SpanStore(Store(args.db), max_spans=args.max_spans, max_age_s=args.max_age_s)
    logs = LogStore(spans.store, max_records=args.max_logs, max_age_s=args.max_age_s)
    receiver = OtlpReceiver(spans, host=args.host, port=args.port, logs=logs)
    try:
        host, port = await receiver.start()
    except OSError as exc:
        print(f"error {exc.errno or 0} {exc.strerror or exc}", flush=True)
        return 1
    print(f"listening {host} {port}", flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    waiter = asyncio.ensure_future(stop.wait())
    eof: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    if _is_pipe(sys.stdin):  # the console's pipe; run by hand (a tty, /dev/null): SIGTERM
        stdin = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
        eof.cancel()
        eof = asyncio.ensure_future(stdin.read())
    try:
        await asyncio.wait({eof, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        eof.cancel()
        waiter.cancel()
        await receiver.stop()
        spans.store.close()
    return 0


def _is_pipe(f: Any) -> bool:
    try:
        return stat.S_ISFIFO(os.fstat(f.fileno()).st_mode)
    except (OSError, ValueError):
        return False


def main(argv: list[str] | None = None) -> int:
    """Run the receiver until stdin closes; the exit status says whether it could listen."""
    p = argparse.ArgumentParser(prog="otlp_child")
    p.add_argument("--db", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=4318)
    p.add_argument("--max-spans", type=int, default=100_000)
    p.add_argument("--max-logs", type=int, default=200_000)
    p.add_argument("--max-age-s", type=float, default=24 * 3600.0)
    tune_for_decoding()
    return asyncio.run(_run(p.parse_args(argv)))


def tune_for_decoding() -> None:
    """Settings for a process that is only a receiver (never the console's own).

    A big body decodes in a worker thread while the event loop answers small requests;
    both need the GIL. Hand it back every 1 ms instead of 5 ms, and collect garbage less
    often: a 200,000-object decode set off full collections of up to 200 ms (measured),
    every one of them a pause for every other request. Decoded OTLP has no cycles.
    """
    sys.setswitchinterval(0.001)
    gc.freeze()  # what is loaded by now lives as long as the process
    gc.set_threshold(50_000, 20, 20)


if __name__ == "__main__":
    sys.exit(main())
