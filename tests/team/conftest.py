"""Fixtures of the team tests: a fresh store, responders' configs, the CLI in a process.

``store_url`` (the root conftest) gives a fresh store on each engine, SQLite and PostgreSQL. Each responder is a config file with its
``me:`` and the CLI runs as its own OS process, as on two laptops.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from console.engine.store.base import StoreLike
from console.engine.store.connect import open_store

PAY = "checkout:POST /pay"
#: A runbook that changes something (its action rolls the demo's checkout back).
ROLLBACK = "rollback-bad-deploy"


@pytest.fixture
def open_url() -> Iterator[Callable[[str], StoreLike]]:
    """Open a store by URL; every store opened is closed after the test."""
    opened: list[StoreLike] = []

    def opener(url: str) -> StoreLike:
        store = open_store(url)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        store.close()


def responder(tmp_path: Path, handle: str, name: str | None = None) -> Path:
    """A config file for one responder (``me: {handle, name}``), no OTLP receiver."""
    path = tmp_path / f"{handle.replace('@', '-')}.yaml"
    me = f"{{handle: {handle}" + (f", name: {name}}}" if name else "}")
    path.write_text(f"me: {me}\notlp: {{enabled: false}}\n", encoding="utf-8")
    return path


def cli(
    url: str, config: Path | None, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``callboard --db URL [--config FILE] ARGS`` as its own OS process."""
    cmd = [sys.executable, "-m", "console.cli", "--db", url]
    if config is not None:
        cmd += ["--config", str(config)]
    return subprocess.run(
        [*cmd, *args], capture_output=True, text=True, timeout=timeout, env=dict(os.environ)
    )
