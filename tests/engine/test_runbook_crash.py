"""A run killed with SIGKILL in the middle of a step shows as interrupted, keeps everything it
recorded, and ``--resume`` never repeats a done step.

Synchronisation is by FIFOs, never by sleeping: the blocking step opens FIFO ``started`` to
say it is running, then waits on FIFO ``release``, which the test opens only after the kill.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from console.engine.store.base import StoreLike
from console.engine.store.events import EventLog

PAY = "checkout:POST /pay"
APPEND = "import sys; open(sys.argv[1], 'a').write(sys.argv[2] + '\\n')"
BLOCK = (
    "import os, sys; log, marker, started, release = sys.argv[1:5]\n"
    "if not os.path.exists(marker):\n"
    "    open(marker, 'w').close(); open(started, 'w').write('running'); open(release).read(); sys.exit(0)\n"
    "open(log, 'a').write('block\\n')\n"
)


def callboard(db: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", "--db", str(db), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("idempotent", [False, True])
def test_sigkill_during_a_step_then_resume(
    tmp_path: Path, store_url: str, stores: Callable[[], StoreLike], idempotent: bool
) -> None:
    """On each engine: a process killed in the middle of a PostgreSQL transaction leaves
    the team store as consistent as a killed SQLite writer leaves the file."""
    log, marker = tmp_path / "log", tmp_path / "marker"
    started, release = tmp_path / "started", tmp_path / "release"
    os.mkfifo(started)
    os.mkfifo(release)
    py = sys.executable
    rb = tmp_path / "crash.yaml"
    rb.write_text(f"""\
id: crash
title: crash test
steps:
  - {{id: first, kind: command, command: [{py!r}, -c, {APPEND!r}, {str(log)!r}, first]}}
  - id: block
    kind: command
    idempotent: {str(idempotent).lower()}
    command: [{py!r}, -c, {BLOCK!r}, {str(log)!r}, {str(marker)!r}, {str(started)!r}, {str(release)!r}]
  - {{id: last, kind: command, command: [{py!r}, -c, {APPEND!r}, {str(log)!r}, last]}}
""")
    db = store_url
    proc = subprocess.Popen(
        [py, "-m", "console.cli", "--db", str(db), "run", str(rb), "--function", PAY],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with open(started) as f:  # returns once the step is running
            assert f.read() == "running"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        with open(release, "w"):  # let the orphaned step finish
            pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    store = stores()
    before = [(e.seq, e.kind, e.data.get("step")) for e in EventLog(store).iter()]
    assert (before[-1][1], before[-1][2]) == ("step.intent", "block")  # the intent survived
    listing = json.loads(callboard(db, "runs", "--json").stdout)
    assert listing[0]["status"] == "interrupted"
    assert [s["status"] for s in listing[0]["steps"]] == ["done", "unknown", "skipped"]
    run_id = listing[0]["run_id"]

    if not idempotent:
        refused = callboard(db, "run", "--resume", run_id, "--yes")
        assert refused.returncode == 3  # --yes is not an answer to "did it take effect?"
        assert "--assume-done" in refused.stderr
        resumed = callboard(db, "run", "--resume", run_id, "--assume-done", "--json")
    else:
        resumed = callboard(db, "run", "--resume", run_id, "--json")
    assert resumed.returncode == 0, resumed.stderr
    doc = json.loads(resumed.stdout)
    assert doc["status"] == "succeeded"
    assert [s["status"] for s in doc["steps"]] == ["done", "done", "done"]
    expected = "first\nblock\nlast\n" if idempotent else "first\nlast\n"
    assert log.read_text() == expected  # "first" ran once: no done step repeated

    after = [(e.seq, e.kind, e.data.get("step")) for e in EventLog(store).iter()]
    assert after[: len(before)] == before  # nothing recorded was lost
    assert EventLog(store).verify().ok
