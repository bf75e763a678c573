"""XDG locations: read from the environment at call time, never created by importing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from console import paths


def test_locations_follow_xdg_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "d"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "s"))
    assert paths.config_file() == tmp_path / "c" / "callboard" / "config.yaml"
    assert paths.data_dir() == tmp_path / "d" / "callboard"
    assert paths.default_db() == tmp_path / "d" / "callboard" / "callboard.db"
    assert paths.state_dir() == tmp_path / "s" / "callboard"
    assert paths.log_dir() == tmp_path / "s" / "callboard" / "log"


def test_defaults_under_home_when_unset_or_relative(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": "relative/path", "XDG_CONFIG_HOME": ""}
    assert paths.config_file(env) == tmp_path / ".config" / "callboard" / "config.yaml"
    assert paths.data_dir(env) == tmp_path / ".local" / "share" / "callboard"
    assert paths.state_dir(env) == tmp_path / ".local" / "state" / "callboard"
    assert paths.cache_dir(env) == tmp_path / ".cache" / "callboard"


def test_runbook_dirs_lists_shipped_user_and_extra_in_order(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "c")}
    dirs = paths.runbook_dirs(["~/ops/runbooks", tmp_path / "rb"], env)
    shipped = paths.shipped_runbooks_dir()
    expected = [tmp_path / "c" / "callboard" / "runbooks", Path("~/ops/runbooks").expanduser()]
    assert dirs == ([shipped] if shipped else []) + [*expected, tmp_path / "rb"]


def test_nothing_is_created_until_ensure_dir(isolated_env: Path) -> None:
    before = sorted(isolated_env.rglob("*"))
    paths.summary()
    paths.runbook_dirs()
    assert sorted(isolated_env.rglob("*")) == before
    made = paths.ensure_dir(paths.log_dir())
    assert made.is_dir() and made == paths.log_dir()
    assert made.stat().st_mode & 0o077 == 0


def test_importing_the_modules_creates_nothing_and_skips_keyring(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    code = (
        "import sys, console.paths, console.config, console.engine.store.secrets, console.core.redact\n"
        "assert 'keyring' not in sys.modules, 'keyring must be imported lazily'"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert list(home.iterdir()) == []
