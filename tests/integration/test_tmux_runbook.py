"""In tmux, from ``callboard --demo``: the worst finding's runbook is started, confirmed and
verified in at most 6 keystrokes after the first paint, and the result is in the store.

Drives ``scripts/tmux_runbook_check.sh`` (it polls the pane with deadlines, never sleeps as
synchronisation). A missing tmux skips locally and fails in CI (``CI=true``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "tmux_runbook_check.sh"


def test_worst_runbook_in_at_most_six_keys(tmp_path: Path) -> None:
    if shutil.which("tmux") is None:
        reason = "tmux is not installed (Debian: apt-get install tmux)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    exe = Path(sys.executable).parent / "callboard"
    command = str(exe) if exe.exists() else f"{sys.executable} -m console.cli"
    env = {**os.environ, "CALLBOARD": command, "PYTHON": sys.executable}
    db = tmp_path / "callboard.db"
    done = subprocess.run(
        ["bash", str(SCRIPT), str(db)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = re.search(r"keys: (\d+) to verified \((\d+) with quit\)", done.stdout)
    assert found is not None, done.stdout
    assert int(found.group(1)) <= 6 and int(found.group(2)) <= 6
    assert "of rollback-bad-deploy succeeded, 6/6 steps done" in done.stdout
