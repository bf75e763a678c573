"""Shared fixtures: every test runs with its own XDG dirs, an in-memory keyring and no
ambient Callboard configuration."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import keyring
import keyring.backend
import keyring.core
import pytest
from keyring.errors import PasswordDeleteError

if TYPE_CHECKING:
    from console.engine.store.base import StoreLike
    from tests.pg import PgCluster

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


# -- the store on both engines ---------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A throwaway PostgreSQL cluster for the whole run (tests/pg.py), started on first use.

    Without PostgreSQL's binaries the PostgreSQL cases skip; under CI=true they fail."""
    import os

    from tests.pg import PgCluster, PgMissing

    try:
        cluster = PgCluster().start()
    except PgMissing as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: {exc}")
        pytest.skip(str(exc))
    try:
        cluster.make_template()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh empty store on each engine: an SQLite file path, or the URL of a new
    PostgreSQL database (a copy of the migrated template; the password is in PGPASSWORD for
    the CLI, and passed explicitly by ``stores``)."""
    if request.param == "sqlite":
        yield str(tmp_path / "store.db")
        return
    from tests.pg import APP_PASSWORD, TEMPLATE

    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    name = cluster.create_db(TEMPLATE)
    monkeypatch.setenv("PGPASSWORD", APP_PASSWORD)
    try:
        yield cluster.url(name)
    finally:
        cluster.drop_db(name)


@pytest.fixture
def stores(store_url: str) -> Iterator[Callable[[], StoreLike]]:
    """``stores()``: a new store object on this test's store (each closed at teardown)."""
    from console.engine.store.connect import open_store
    from tests.pg import APP_PASSWORD

    made: list[StoreLike] = []

    def make() -> StoreLike:
        password = APP_PASSWORD if store_url.startswith("postgresql://") else None
        store = open_store(store_url, password=password)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def any_store(stores: Callable[[], StoreLike]) -> StoreLike:
    """One store, on each engine."""
    return stores()
