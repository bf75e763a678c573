"""A tiny instrumented app: ``/metrics`` in Prometheus text format with known numbers.

Each function serves a fixed request rate split over status codes with a fixed latency
distribution. Counters grow linearly with time since start (``count = rps × fraction ×
elapsed``), so ``rate()`` over any window gives back exactly the configured rates, and
``histogram_quantile`` the quantiles computed by :func:`expected_quantile`. Metric and label
names follow the OpenTelemetry HTTP semantic conventions as a Collector exports them
(the ``otel-http`` preset). No prometheus_client: the exposition is a few lines of text.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

METRIC = "http_server_request_duration_seconds"
#: Bucket upper bounds (seconds) and the cumulative fraction of requests at or below them.
DEFAULT_CDF: tuple[tuple[float, float], ...] = (
    (0.01, 0.2),
    (0.05, 0.6),
    (0.1, 0.85),
    (0.25, 0.97),
    (0.5, 0.995),
    (1.0, 1.0),
)


@dataclass(frozen=True)
class AppFunction:
    """One endpoint: ``rps`` requests per second split by ``codes`` (code → fraction)."""

    service: str | None
    method: str
    route: str
    rps: float
    codes: Mapping[str, float] = field(default_factory=lambda: {"200": 1.0})
    cdf: Sequence[tuple[float, float]] = DEFAULT_CDF

    @property
    def id(self) -> str:
        return f"{self.service or 'app'}:{self.method} {self.route}"


def expected_quantile(q: float, cdf: Sequence[tuple[float, float]] = DEFAULT_CDF) -> float:
    """What Prometheus's ``histogram_quantile`` returns for this distribution (seconds)."""
    prev_le, prev_f = 0.0, 0.0
    for le, f in cdf:
        if f >= q:
            return prev_le + (le - prev_le) * (q - prev_f) / (f - prev_f)
        prev_le, prev_f = le, f
    return cdf[-1][0]


def _labels(fn: AppFunction, code: str) -> str:
    parts = [f'http_route="{fn.route}"', f'http_request_method="{fn.method}"']
    if fn.service is not None:
        parts.insert(0, f'service_name="{fn.service}"')
    parts.append(f'http_response_status_code="{code}"')
    return ",".join(parts)


def exposition(functions: Sequence[AppFunction], elapsed: float) -> str:
    """The text exposition of every function's histogram after ``elapsed`` seconds."""
    lines = [f"# HELP {METRIC} Duration of HTTP server requests.", f"# TYPE {METRIC} histogram"]
    for fn in functions:
        for code, frac in fn.codes.items():
            count = fn.rps * frac * elapsed
            base = _labels(fn, code)
            for le, f in fn.cdf:
                lines.append(f'{METRIC}_bucket{{{base},le="{le:g}"}} {count * f!r}')
            lines.append(f'{METRIC}_bucket{{{base},le="+Inf"}} {count!r}')
            lines.append(f"{METRIC}_sum{{{base}}} {count * 0.05!r}")
            lines.append(f"{METRIC}_count{{{base}}} {count!r}")
    return "\n".join(lines) + "\n"


def bulk(n: int, service_prefix: str = "bulk") -> list[AppFunction]:
    """``n`` similar functions over ``n // 50 + 1`` services: 1 rps, 1% 500s."""
    return [
        AppFunction(f"{service_prefix}{i // 50}", "GET", f"/r{i}", 1.0, {"200": 0.99, "500": 0.01})
        for i in range(n)
    ]


@contextmanager
def serve(functions: Sequence[AppFunction]) -> Iterator[str]:
    """Serve ``/metrics`` on a free loopback port; yields ``host:port``; stops on exit."""
    started = time.monotonic()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            body = exposition(functions, time.monotonic() - started).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with suppress(BrokenPipeError, ConnectionResetError):  # scraper gave up: fine
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
