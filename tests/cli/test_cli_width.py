"""The CLI's tables at the width a responder has: COLUMNS, the terminal, or 80 when piped.

Each test runs ``callboard`` in a fresh process with its stdout a pipe (or a pty of a
known size), as a user's shell would.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import socket
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from rich.cells import cell_len

from console.commands.tables import cut_function_id, cut_middle

FUNCTION = "checkout:POST /pay"  # the demo's timing-out checkout: traces with errors


def env_for(tmp_path: Path, columns: int | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLBOARD_")}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp_path / var.lower())
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return env


def callboard(tmp_path: Path, *args: str, columns: int | None = 80) -> str:
    """``callboard ARGS --demo`` with stdout piped; its stdout (exit 0, stderr empty)."""
    proc = subprocess.run(
        [sys.executable, "-m", "console.cli", *args, "--demo", "--db", str(tmp_path / "cb.db")],
        capture_output=True,
        text=True,
        env=env_for(tmp_path, columns),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout


def widest(text: str) -> int:
    return max(cell_len(line) for line in text.splitlines())


def test_traces_at_80_columns_show_the_errors_and_the_whole_trace_ids(tmp_path: Path) -> None:
    out = callboard(tmp_path, "traces", FUNCTION)
    header, _rule, *rows = out.splitlines()
    assert "errors" in header and "trace id" in header
    assert widest(out) <= 80
    assert rows
    errors = []
    for row in rows:  # "… <errors>   <32 hex trace id>" with nothing cut
        m = re.search(r"\s(\d+)\s+([0-9a-f]{32})\s*$", row)
        assert m, f"no error count and whole trace id in {row!r}"
        errors.append(int(m.group(1)))
    assert any(errors)  # the timing-out checkout has error traces among them


def test_trace_at_80_columns_keeps_the_first_error_marker(tmp_path: Path) -> None:
    tid = json.loads(callboard(tmp_path, "traces", FUNCTION, "--errors", "--json"))["traces"][0]
    whole = json.loads(callboard(tmp_path, "trace", tid["trace_id"], "--json"))
    first = next(s for s in whole["spans"] if s["span_id"] == whole["first_error_span_id"])
    out = callboard(tmp_path, "trace", tid["trace_id"])
    assert widest(out) <= 80
    marked = [line for line in out.splitlines() if line.endswith("◀ first error")]
    assert len(marked) == 1
    assert first["name"][:12] in marked[0]


@pytest.mark.parametrize("columns", [80, 125])
def test_status_fits_the_width_one_line_per_function(tmp_path: Path, columns: int) -> None:
    fleet = json.loads(callboard(tmp_path, "status", "--json"))["functions"]
    burning = [f for f in fleet if f["findings"]]
    out = callboard(tmp_path, "status", columns=columns)
    assert widest(out) <= columns
    rows = [line for line in out.splitlines() if re.search(r"\bF\d+ ", line)]
    assert len(rows) == len(burning)  # one line each: no row wrapped onto a second line
    for f in burning:  # the operation of every id stays readable
        operation = f["id"].partition(":")[2]
        assert any(operation in row for row in rows), operation


def test_status_piped_without_columns_is_80_wide(tmp_path: Path) -> None:
    out = callboard(tmp_path, "status", "--all", columns=None)
    assert 70 < widest(out) <= 80


def test_status_at_the_terminal_width_of_a_pty(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "console.cli", "status", "--demo", "--all"],
            stdin=follower,
            stdout=follower,
            stderr=follower,
            env={**env_for(tmp_path, None), "TERM": "dumb", "NO_COLOR": "1"},
        )
        os.close(follower)
        chunks = []
        while True:  # until the child closes its side (EIO on Linux)
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=120) == 0
    finally:
        os.close(leader)
    out = re.sub(r"\x1b\[[0-9;]*m", "", b"".join(chunks).decode()).replace("\r\n", "\n")
    assert "function" in out
    assert 90 < widest(out) <= 100


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_status_into_head_exits_0_without_a_word_on_stderr(
    tmp_path: Path, extra: list[str]
) -> None:
    """``callboard status | head -1``: far more output than a pipe holds, the reader leaves
    after one line."""
    args = ["status", "--demo", "--all", "--demo-size", "3000", *extra]
    proc = subprocess.Popen(
        [sys.executable, "-m", "console.cli", *args, "--db", str(tmp_path / "cb.db")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env_for(tmp_path, 80),
    )
    assert proc.stdout is not None and proc.stderr is not None
    with proc:
        assert proc.stdout.readline()
        proc.stdout.close()  # what head does after its line
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == 0
    assert err == b""


def test_ids_are_cut_in_the_middle_and_function_ids_keep_their_operation() -> None:
    cut = cut_function_id("notifications:worker email-send", 24)
    assert cell_len(cut) == 24 and cut.endswith(":worker email-send") and "…" in cut
    assert cut_function_id("checkout:POST /pay", 40) == "checkout:POST /pay"
    narrow = cut_function_id("svc:a-very-long-operation-name", 12)
    assert cell_len(narrow) <= 12 and narrow.startswith("…:") and narrow.endswith("name")
    assert cut_middle("1e276b119b55000000100002bb3ce932", 11) == "1e276…ce932"
    assert cell_len(cut_middle("中文服务名称很长", 7)) == 7  # wide characters count two cells
    assert cell_len(cut_function_id("支付服务网关:POST /pay", 16)) <= 16


def test_a_failing_backend_keeps_its_whole_error_at_80_columns(tmp_path: Path) -> None:
    with socket.socket() as s:  # a loopback port nothing listens on: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"backends:\n  - {{name: prom, plugin: prometheus, url: 'http://127.0.0.1:{port}'}}\n"
    )
    db = str(tmp_path / "cb.db")
    proc = subprocess.run(
        [sys.executable, "-m", "console.cli", "status", "--config", str(cfg), "--db", db],
        capture_output=True,
        text=True,
        env=env_for(tmp_path, 80),
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    assert widest(proc.stdout) <= 80
    assert "connection refused" in " ".join(proc.stdout.split())
