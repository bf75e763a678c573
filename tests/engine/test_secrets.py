"""Secrets: keyring first, environment fallback, clear words when there is no keyring."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.backends.null
import pytest
from keyring.errors import KeyringError

from console.core.redact import REDACTOR, Redactor
from console.engine.store.secrets import INDEX_KEY, SecretStore, env_var, resolve_options
from console.errors import SecretError


class _NeverDetected(keyring.backend.KeyringBackend):
    """Test doubles must not become candidates for keyring's auto-detection."""

    @keyring.backend.properties.classproperty
    def priority(cls) -> float:
        raise RuntimeError("test double")

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def get_password(self, service: str, username: str) -> str | None:
        return "from-the-file"

    def set_password(self, service: str, username: str, password: str) -> None:
        self.writes.append(username)

    def delete_password(self, service: str, username: str) -> None:
        self.writes.append(username)


class PlaintextKeyring(_NeverDetected):
    """Stands in for keyrings.alt's plain-text file backend (not installed here)."""

    __module__ = "keyrings.alt.file"


class LockedKeyring(_NeverDetected):
    """A keyring whose every call fails, like a locked collection."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringError("collection is locked")


@pytest.fixture
def redactor() -> Iterator[Redactor]:
    REDACTOR.clear()
    yield REDACTOR
    REDACTOR.clear()


def test_set_get_list_delete_in_the_keyring(memory_keyring, redactor: Redactor) -> None:
    store = SecretStore()
    assert store.backend_usable()[0]
    store.set("prom-token", "tok-123456")
    store.set("am.password", "pw-654321")
    assert store.get("prom-token") == "tok-123456"
    assert memory_keyring.data[("callboard", "prom-token")] == "tok-123456"
    # The index lives in the keyring itself, so a new process sees the names.
    assert SecretStore().names() == ["am.password", "prom-token"]
    store.delete("prom-token")
    assert store.names() == ["am.password"]
    with pytest.raises(SecretError, match="not found"):
        store.get("prom-token")
    store.delete("am.password")
    assert store.names() == []
    assert ("callboard", INDEX_KEY) not in memory_keyring.data


def test_env_fallback_and_keyring_first(redactor: Redactor) -> None:
    env = {"CALLBOARD_SECRET_PROM_TOKEN": "env-value-1", "CALLBOARD_SECRET_AM_PASS": "env-2222"}
    store = SecretStore(env=env)
    assert env_var("am.pass") == "CALLBOARD_SECRET_AM_PASS"
    assert store.get("prom-token") == "env-value-1"
    assert store.get("am.pass") == "env-2222"
    store.set("prom-token", "keyring-value")
    assert store.get("prom-token") == "keyring-value"
    assert store.sources() == [("am_pass", "CALLBOARD_SECRET_AM_PASS"), ("prom-token", "keyring")]


def test_missing_secret_names_both_places_and_the_command() -> None:
    with pytest.raises(SecretError) as info:
        SecretStore(env={}).get("prom-token")
    message = str(info.value)
    assert "callboard secrets set prom-token" in message
    assert "CALLBOARD_SECRET_PROM_TOKEN" in message


def test_fail_keyring_says_what_to_do_and_env_still_works(redactor: Redactor) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    store = SecretStore(env={"CALLBOARD_SECRET_TOKEN": "from-env-99"})
    usable, message = store.backend_usable()
    assert not usable
    assert "no keyring backend is available" in message
    assert "CALLBOARD_SECRET_<NAME>" in message and "Secret Service" in message
    assert store.get("token") == "from-env-99"
    assert store.names() == ["token"]
    with pytest.raises(SecretError, match="CALLBOARD_SECRET_OTHER"):
        store.get("other")
    with pytest.raises(SecretError, match="environment variable CALLBOARD_SECRET_NEW instead"):
        store.set("new", "value-1234")


def test_null_keyring_is_reported_as_disabled() -> None:
    keyring.set_keyring(keyring.backends.null.Keyring())
    usable, message = SecretStore().backend_usable()
    assert not usable and "disabled" in message


def test_plaintext_keyring_is_refused_and_never_written(isolated_env: Path) -> None:
    plain = PlaintextKeyring()
    keyring.set_keyring(plain)
    store = SecretStore(env={"CALLBOARD_SECRET_TOKEN": "from-env-77"})
    usable, message = store.backend_usable()
    assert not usable
    assert "keyrings.alt.file.PlaintextKeyring" in message and "not secure" in message
    with pytest.raises(SecretError, match="not secure"):
        store.set("token", "value-1234")
    assert plain.writes == []
    assert store.get("token") == "from-env-77"  # the file's value is never read either
    assert [p for p in isolated_env.rglob("*") if p.is_file()] == []


def test_chained_plaintext_fallback_is_refused() -> None:
    class ChainerBackend:
        __module__ = "keyring.backends.chainer"
        backends = (keyring.backends.null.Keyring(), PlaintextKeyring())

    usable, message = SecretStore(backend=ChainerBackend()).backend_usable()  # type: ignore[arg-type]
    assert not usable and "not secure" in message


def test_keyring_error_on_read_falls_back_to_env() -> None:
    store = SecretStore(env={"CALLBOARD_SECRET_TOKEN": "env-token-1"}, backend=LockedKeyring())
    assert store.get("token") == "env-token-1"
    usable, message = store.backend_usable()
    assert not usable and "collection is locked" in message
    with pytest.raises(SecretError, match="collection is locked"):
        store.get("absent")


def test_every_resolved_value_is_redacted(redactor: Redactor) -> None:
    store = SecretStore(env={"CALLBOARD_SECRET_PROM_TOKEN": "sk-live-abcdef"})
    value = store.get("prom-token")
    assert redactor.redact(f"GET /api?token={value}") == "GET /api?token=«redacted:prom-token»"
    store.set("db", "hunter2-long")
    assert redactor.redact("hunter2-long") == "«redacted:db»"


def test_resolve_options_replaces_secret_refs_anywhere(redactor: Redactor) -> None:
    store = SecretStore(
        env={"CALLBOARD_SECRET_PROM_TOKEN": "tok-abcdef", "CALLBOARD_SECRET_U": "uuuu"}
    )
    options = {
        "url": "https://prom.internal",
        "auth": {"bearer": {"secret": "prom-token"}},
        "headers": [{"name": "X-User", "value": {"secret": "u"}}],
        "secret": "not-a-reference",
        "timeout": 5,
    }
    resolved = resolve_options(options, store)
    assert resolved == {
        "url": "https://prom.internal",
        "auth": {"bearer": "tok-abcdef"},
        "headers": [{"name": "X-User", "value": "uuuu"}],
        "secret": "not-a-reference",
        "timeout": 5,
    }
    assert options["auth"] == {"bearer": {"secret": "prom-token"}}  # the config is untouched
    with pytest.raises(SecretError, match="CALLBOARD_SECRET_MISSING"):
        resolve_options({"a": {"secret": "missing"}}, store)


@pytest.mark.parametrize("name", ["", "has space", "-lead", INDEX_KEY, "a/b"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(SecretError, match="bad secret name"):
        SecretStore().set(name, "value-1234")


def test_empty_value_and_unknown_delete_are_explained() -> None:
    store = SecretStore(env={"CALLBOARD_SECRET_ONLY_ENV": "x" * 8})
    with pytest.raises(SecretError, match="empty"):
        store.set("a", "")
    with pytest.raises(SecretError, match="unset it there"):
        store.delete("only-env")
