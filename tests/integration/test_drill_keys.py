"""In tmux at 140×45 and 80×24, from ``callboard --demo``: the README's "At 3 a.m." drill —
page, look, traces, rollback, incident, note, mitigate, resolve, export — is done within its
key budget (issue 13: at most 16 keys at 140×45, 18 at 80×24), and the store then holds the
run in the resolved incident and the exported postmortem.

Drives ``scripts/drill_keys.sh`` (it polls the pane with deadlines, never sleeps as
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

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "drill_keys.sh"
#: Issue 13's budget per terminal size (README "At 3 a.m."; the drill takes 16 at both).
MAX_KEYS = {"140x45": 16, "80x24": 18}


@pytest.mark.parametrize("size", list(MAX_KEYS))
def test_the_3am_drill_within_its_keys(size: str) -> None:
    if shutil.which("tmux") is None:
        reason = "tmux is not installed (Debian: apt-get install tmux)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    exe = Path(sys.executable).parent / "callboard"
    command = str(exe) if exe.exists() else f"{sys.executable} -m console.cli"
    env = {**os.environ, "CALLBOARD": command, "PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(SCRIPT), size],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "in INC-0001 (resolved); export INC-0001-postmortem.md" in done.stdout
    found = re.search(rf"keys at {size}: (\d+) \((.*?);", done.stdout)
    assert found is not None, done.stdout
    phases = dict(p.split("=") for p in found.group(2).split(","))
    # one Enter in the runner's confirmation approves the rollback and opens the incident
    assert list(phases) == ["look", "traces", "rollback+incident", "timeline", "note",
                            "mitigate", "resolve", "export"]  # fmt: skip
    assert int(found.group(1)) <= MAX_KEYS[size], done.stdout
