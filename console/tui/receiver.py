"""The embedded OTLP receiver, run by the console while it is open (``otlp.enabled``).

It runs in a child process (:class:`ReceiverProcess`): decoding a sender's batches is pure
Python, and in the console's own process it would share the GIL with every key press
(``bench/bench_otlp_attack.py --console`` measures both). The child writes spans into the
console's SQLite file, which the console reads. A store that is not a file (``:memory:``)
keeps the receiver in-process. A busy port is not fatal: the header says so and everything
else works.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import sys
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from console.context import AppContext


class Receiver(Protocol):
    """What the app needs from a running receiver."""

    port: int

    async def stop(self) -> None: ...


class ReceiverProcess:
    """``console.engine.otlp.child`` as a subprocess; it stops when we close its stdin."""

    def __init__(
        self,
        db: str,
        host: str,
        port: int,
        *,
        max_spans: int,
        max_age_s: float,
        max_logs: int = 200_000,
    ) -> None:
        self.host, self.port = host, port
        self._args = [
            f"--db={db}",
            f"--host={host}",
            f"--port={port}",
            f"--max-spans={max_spans}",
            f"--max-logs={max_logs}",
            f"--max-age-s={max_age_s}",
        ]
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self) -> tuple[str, int]:
        """Start the child and wait for its first line; returns the bound (host, port).

        Raises: OSError when it cannot listen (errno from the child) or does not start.
        """
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "console.engine.otlp.child",
            *self._args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,  # never onto the console's screen
        )
        assert self._proc.stdout is not None
        try:
            line = (await asyncio.wait_for(self._proc.stdout.readline(), 60)).decode()
        except TimeoutError:
            line = ""
        word, _, rest = line.strip().partition(" ")
        if word == "listening":
            host, _, port = rest.rpartition(" ")
            self.host, self.port = host, int(port)
            return self.host, self.port
        await self.stop()
        code, _, message = rest.partition(" ")
        if word == "error" and code.isdigit():
            raise OSError(int(code), message)
        raise OSError(0, "the receiver process did not start")

    async def stop(self) -> None:
        """Close the child's stdin (it stops and exits); kill it if it has not in 5 s."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


async def start_receiver(context: AppContext) -> tuple[Receiver | None, str, bool]:
    """Start the receiver the config asks for: (receiver or None, header note, ok)."""
    cfg = context.config.otlp
    if not cfg.enabled:
        return None, "", True
    receiver: ReceiverProcess | OtlpReceiver
    db = str(context.local_store.path)
    if db == ":memory:":
        from console.engine.otlp.logstore import LogStore
        from console.engine.otlp.receiver import OtlpReceiver
        from console.engine.otlp.spanstore import SpanStore

        spans = SpanStore(
            context.local_store, max_spans=cfg.max_spans, max_age_s=cfg.max_age_seconds
        )
        logs = LogStore(spans.store, max_records=cfg.max_logs, max_age_s=cfg.max_age_seconds)
        receiver = OtlpReceiver(spans, host=cfg.host, port=cfg.port, logs=logs)
    else:
        receiver = ReceiverProcess(
            db,
            cfg.host,
            cfg.port,
            max_spans=cfg.max_spans,
            max_age_s=cfg.max_age_seconds,
            max_logs=cfg.max_logs,
        )
    try:
        host, port = await receiver.start()
    except OSError as exc:
        reason = "busy" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        return None, f"OTLP {cfg.host}:{cfg.port} {reason}", False
    return receiver, f"OTLP ← {host}:{port}", True


if TYPE_CHECKING:
    from console.engine.otlp.receiver import OtlpReceiver
