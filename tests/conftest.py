"""Shared fixtures: every test runs with its own XDG dirs, an in-memory keyring and no
ambient Callboard configuration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.core
import pytest
from keyring.errors import PasswordDeleteError

FIXTURES = (
    Path(__file__).resolve().parent / "fixtures"
)  # copied from ../shared/fixtures (Apache-2.0, see README there)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that forgets everything when the test ends."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.data[(service, username)]
        except KeyError:
            raise PasswordDeleteError(username) from None


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point XDG dirs at a temp folder and clear every CALLBOARD_* variable."""
    import os

    for key in list(os.environ):
        if key.startswith("CALLBOARD_"):
            monkeypatch.delenv(key)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        d = tmp_path / "xdg" / var.lower()
        d.mkdir(parents=True)
        monkeypatch.setenv(var, str(d))
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    yield tmp_path


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """An in-memory keyring for every test (restored afterwards)."""
    prev = keyring.core._keyring_backend
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.core._keyring_backend = prev


@pytest.fixture
def fixtures_dir() -> Path:
    """Real backend payloads (a byte-for-byte copy of ../shared/fixtures)."""
    if not FIXTURES.is_dir():
        pytest.fail(f"fixtures not found at {FIXTURES}")
    return FIXTURES
