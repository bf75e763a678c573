"""Incident changes and runbook actions reach Grafana as annotations, best effort."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest


class Grafana:
    """A stand-in Grafana on loopback that records POST /api/annotations."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.auth: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.posts.append(json.loads(body))
                outer.auth.append(self.headers.get("Authorization", ""))
                data = b'{"message":"Annotation added","id":1}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Grafana:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def grafana() -> Iterator[Grafana]:
    with Grafana() as g:
        yield g


def cli(tmp_path: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "backends:\n"
        "  - {name: demo, plugin: demo}\n"
        f"  - {{name: dash, plugin: grafana, url: 'http://127.0.0.1:{port}',"
        " token: {secret: grafana-token}}\n"
        "otlp: {enabled: false}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLBOARD_")}
    env["CALLBOARD_SECRET_GRAFANA_TOKEN"] = "glsa_secret_value_1234"
    return subprocess.run(
        [sys.executable, "-m", "console.cli", "--config", str(cfg),
         "--db", str(tmp_path / "cb.db"), *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def test_incident_changes_and_actions_become_annotations(tmp_path: Path, grafana: Grafana) -> None:
    opened = cli(tmp_path, grafana.port, "incident", "open", "--title", "Pay times out",
                 "--function", "checkout:POST /pay", "--severity", "SEV1")  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    ran = cli(tmp_path, grafana.port, "run", "rollback-bad-deploy",
              "--function", "checkout:POST /pay", "--incident", "INC-0001", "--yes")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    resolved = cli(tmp_path, grafana.port, "incident", "resolve", "INC-0001")
    assert resolved.returncode == 0, resolved.stderr

    texts = [p["text"] for p in grafana.posts]
    assert texts[0].startswith("INC-0001 opened (SEV1)")
    assert any("rollback-bad-deploy · rollback done" in t and "v2.14.0" in t for t in texts)
    assert texts[-1].startswith("INC-0001 resolved")
    assert all("INC-0001" in p["tags"] for p in grafana.posts)
    assert all(isinstance(p["time"], int) for p in grafana.posts)  # epoch ms
    assert set(grafana.auth) == {"Bearer glsa_secret_value_1234"}
    for out in (opened, ran, resolved):  # the token never reaches the terminal
        assert "glsa_secret_value_1234" not in out.stdout + out.stderr


def test_a_dashboard_that_is_down_never_fails_the_incident(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    opened = cli(tmp_path, port, "incident", "open", "--title", "x",
                 "--function", "checkout:POST /pay")  # fmt: skip
    assert opened.returncode == 0
    assert "opened INC-0001" in opened.stdout
    assert "annotation on dash failed" in opened.stderr


def test_read_only_posts_no_annotation_and_records_the_refusal(
    tmp_path: Path, grafana: Grafana
) -> None:
    from console.engine.store.events import EventLog
    from console.engine.store.sqlite import Store

    fn = "payments:rpc Authorize"
    opened = cli(tmp_path, grafana.port, "--read-only", "incident", "open", "--title", "x",
                 "--function", fn)  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    assert "read-only: annotation not posted" in opened.stderr
    rb = tmp_path / "close.yaml"  # nothing is open: the plugin plans no change
    rb.write_text(
        "id: close\ntitle: t\nsteps:\n  - {id: close, kind: action, action: circuit_close,"
        " params: {dependency: bank-gateway}}\n"
    )
    ran = cli(tmp_path, grafana.port, "--read-only", "run", str(rb), "--function", fn)
    assert ran.returncode == 0, ran.stderr
    assert grafana.posts == []  # nothing left the machine
    refused = [e for e in EventLog(Store(tmp_path / "cb.db")).iter()
               if e.kind == "annotation.refused"]  # fmt: skip
    # the opening's annotation and the action's: each refusal is on the timeline
    assert [e.incident_id for e in refused] == ["INC-0001", "INC-0001"]
    assert [e.data["backends"] for e in refused] == [["dash"], ["dash"]]
