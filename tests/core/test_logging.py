"""The log file: what went wrong is there afterwards, and no secret ever is."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from console.cli import main
from console.logsetup import LOGGER, log_file


def refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def close_log() -> object:
    yield
    for handler in list(logging.getLogger(LOGGER).handlers):
        logging.getLogger(LOGGER).removeHandler(handler)
        handler.close()


def test_a_failing_backend_is_logged_with_its_secret_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret_url = f"http://127.0.0.1:{refused_port()}/tenant-s3cr3t-path"
    monkeypatch.setenv("CALLBOARD_SECRET_PROM_URL", secret_url)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "backends:\n  - {name: prom, plugin: prometheus, url: {secret: prom-url}, timeout: 2s}\n"
        "otlp: {enabled: false}\n"
    )
    with pytest.raises(SystemExit) as exc:
        main(["--config", str(cfg), "--db", str(tmp_path / "cb.db"), "status", "--json"])
    assert exc.value.code == 1  # a backend failed
    out = capsys.readouterr()
    assert "s3cr3t" not in out.out + out.err
    text = log_file().read_text()
    assert "backend prom: functions failed" in text and "connection refused" in text
    assert "s3cr3t" not in text
    assert "«redacted:prom-url»" in text


def test_actions_are_logged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(tmp_path / "cb.db"), "run", "rollback-bad-deploy",
              "--function", "checkout:POST /pay", "--yes"])  # fmt: skip
    assert exc.value.code == 0, capsys.readouterr().err
    text = log_file().read_text()
    assert "action rollback on checkout:POST /pay via demo" in text
    assert "action rollback on checkout:POST /pay: ok" in text
