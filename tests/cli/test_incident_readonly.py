"""Issue 10: under read-only the CLI posts no annotation for an incident change and, like the
console, records each refusal on the incident's timeline (``annotation.refused``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from console.engine.incidents.export import export_incident
from console.engine.store.events import EventLog
from console.engine.store.sqlite import Store

PAY = "checkout:POST /pay"


def cli(tmp_path: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "backends:\n  - {name: demo, plugin: demo}\n"
        f"  - {{name: dash, plugin: grafana, url: 'http://127.0.0.1:{port}',"
        " token: {secret: grafana-token}}\n"
        "otlp: {enabled: false}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLBOARD_")}
    env["CALLBOARD_SECRET_GRAFANA_TOKEN"] = "glsa_test"
    return subprocess.run(
        [sys.executable, "-m", "console.cli", "--config", str(cfg),
         "--db", str(tmp_path / "cb.db"), "--read-only", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_the_cli_records_a_read_only_annotation_refusal(tmp_path: Path) -> None:
    with socket.socket() as s:  # nothing listens: a post would fail, not be refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    opened = cli(tmp_path, port, "incident", "open", "--title", "pay slow", "--function", PAY)
    assert opened.returncode == 0, opened.stderr
    assert "read-only: annotation not posted to dash" in opened.stderr
    assert "failed" not in opened.stderr
    mitigated = cli(tmp_path, port, "incident", "mitigate", "INC-0001", "--no-refresh")
    assert mitigated.returncode == 0, mitigated.stderr

    store = Store(tmp_path / "cb.db")
    refused = [e for e in EventLog(store).iter() if e.kind == "annotation.refused"]
    assert [(e.incident_id, e.data["backends"]) for e in refused] == [
        ("INC-0001", ["dash"]),
        ("INC-0001", ["dash"]),
    ]
    assert refused[0].data["text"].startswith("INC-0001 opened (SEV2)")
    md = export_incident(store, "INC-0001", "md")
    assert "Annotation refused (not posted to dash): read-only: annotation not posted" in md
    assert "REFUSED · annotation INC-0001 mitigated" in md
