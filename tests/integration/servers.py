"""Start and stop real Prometheus and Alertmanager processes on loopback ports.

Shared by the integration tests and ``bench/bench_prometheus.py``. Every wait is a bounded
poll against a deadline; every process started here is stopped by the context manager.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

PROMETHEUS = os.environ.get("CALLBOARD_TEST_PROMETHEUS", "prometheus")
ALERTMANAGER = os.environ.get("CALLBOARD_TEST_ALERTMANAGER", "prometheus-alertmanager")


def find_binary(name: str) -> str | None:
    """The binary's path, or None when it is not installed."""
    return shutil.which(name)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> None:
    """Poll ``check`` until it is true; raise TimeoutError naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:g}s waiting for {what}")
        time.sleep(interval)  # polling interval of a bounded wait, not synchronisation


@dataclass
class Server:
    """A running server: its base URL and process."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.url} exited: {self.log.read_text()[-2000:]}")
        return httpx.get(self.url + "/-/ready", timeout=1.0).status_code == 200


@contextmanager
def _run(argv: list[str], url: str, log: Path, timeout: float) -> Iterator[Server]:
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    server = Server(url, proc, log)
    try:
        wait_until(server.ready, timeout, f"{argv[0]} at {url} to be ready")
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def prometheus_config(
    targets: Sequence[str], alertmanager: str | None = None, scrape: str = "1s"
) -> str:
    """A prometheus.yml scraping ``targets`` (job ``app``), with alert rules and routing."""
    am = (
        f"alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['{alertmanager}']\n"
        if alertmanager
        else ""
    )
    tl = ", ".join(f"'{t}'" for t in targets)
    return (
        f"global:\n  scrape_interval: {scrape}\n  scrape_timeout: {scrape}\n"
        f"  evaluation_interval: {scrape}\n"
        f"rule_files: ['rules.yml']\n{am}"
        f"scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [{tl}]\n"
    )


RULES = """groups:
  - name: callboard-test
    rules:
      - alert: HighErrorRate
        expr: |
          sum by (service_name, http_route, http_request_method) (rate(http_server_request_duration_seconds_count{http_response_status_code=~"5.."}[5s]))
            / sum by (service_name, http_route, http_request_method) (rate(http_server_request_duration_seconds_count[5s])) > 0.02
        labels: {severity: page}
        annotations: {summary: "more than 2% of requests fail with 5xx"}
"""


@contextmanager
def prometheus(
    workdir: Path, targets: Sequence[str], alertmanager: str | None = None, timeout: float = 30.0
) -> Iterator[Server]:
    """Run Prometheus on a free loopback port, scraping ``targets`` every second."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "prometheus.yml").write_text(prometheus_config(targets, alertmanager))
    (workdir / "rules.yml").write_text(RULES)
    port = free_port()
    argv = [
        PROMETHEUS,
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    with _run(argv, f"http://127.0.0.1:{port}", workdir / "prometheus.log", timeout) as s:
        yield s


@contextmanager
def prometheus_with(workdir: Path, config: str, timeout: float = 30.0) -> Iterator[Server]:
    """Run Prometheus on a free loopback port with the given prometheus.yml text."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "prometheus.yml").write_text(config)
    port = free_port()
    argv = [
        PROMETHEUS,
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    with _run(argv, f"http://127.0.0.1:{port}", workdir / "prometheus.log", timeout) as s:
        yield s


@contextmanager
def alertmanager(workdir: Path, timeout: float = 30.0) -> Iterator[Server]:
    """Run Alertmanager on a free loopback port, clustering off, one null receiver."""
    workdir.mkdir(parents=True, exist_ok=True)
    cfg = workdir / "alertmanager.yml"
    cfg.write_text(
        "route:\n  receiver: 'null'\n  group_wait: 0s\n  group_interval: 1s\n"
        "receivers:\n  - name: 'null'\n"
    )
    port = free_port()
    argv = [
        ALERTMANAGER,
        f"--config.file={cfg}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
        "--log.level=warn",
    ]
    with _run(argv, f"http://127.0.0.1:{port}", workdir / "alertmanager.log", timeout) as s:
        yield s
