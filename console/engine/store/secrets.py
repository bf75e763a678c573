"""Secrets: the OS keyring first, then ``CALLBOARD_SECRET_<NAME>`` from the environment.

Config refers to a secret as ``{secret: NAME}``; :func:`resolve_options` swaps each such
reference for its value just before a plugin is built. Nothing here ever writes a secret
to disk: a keyring backend that would (``keyrings.alt``'s file backends) is refused, and on
a machine with no keyring at all (headless Linux) the environment is the way in. Every
value resolved or stored is registered with the redactor, so it never reaches a log, an
event, an export or the screen.

``keyring`` is imported on first use: importing it and detecting a backend costs ~120 ms.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from console.config import is_secret_name, secret_ref
from console.core.redact import REDACTOR, Redactor
from console.errors import SecretError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = ["ENV_PREFIX", "SecretStore", "env_var", "resolve_options"]

ENV_PREFIX = "CALLBOARD_SECRET_"
#: Where the list of stored names lives (keyring cannot enumerate). Not a valid secret name.
INDEX_KEY = "__callboard_index__"

_INSTALL_HELP = (
    "install and unlock a Secret Service such as gnome-keyring (on headless Linux: start a "
    "shell with `dbus-run-session`, then `gnome-keyring-daemon --unlock`)"
)
_HEADLESS_HELP = (
    "put each secret in the environment as CALLBOARD_SECRET_<NAME> (NAME upper-cased, "
    f"'-' and '.' as '_'), or {_INSTALL_HELP}"
)


def env_var(name: str) -> str:
    """The environment variable that holds secret ``name``: ``prom-token`` → ``CALLBOARD_SECRET_PROM_TOKEN``."""
    return ENV_PREFIX + name.upper().replace("-", "_").replace(".", "_")


def _class_path(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _refusal(backend: object) -> str | None:
    """Why ``backend`` must not hold Callboard's secrets, or None if it may."""
    from keyring.backends import fail, null

    path = _class_path(backend)
    if isinstance(backend, fail.Keyring):
        return "no keyring backend is available on this machine"
    if isinstance(backend, null.Keyring):
        return "the keyring is disabled (null backend)"
    if path.startswith("keyrings.alt.file."):
        kind = (
            "stores secrets in a plain-text file: not secure"
            if "Plaintext" in path
            else "stores secrets in a file on disk and prompts for a master password"
        )
        return f"keyring backend {path} {kind}, so Callboard refuses it"
    chained = getattr(backend, "backends", None)
    if path.startswith("keyring.backends.chainer.") and isinstance(chained, list | tuple):
        for child in chained:
            reason = _refusal(child)
            if reason is not None and _class_path(child).startswith("keyrings.alt."):
                return reason  # a chain may fall through to a file on disk
    return None


class SecretStore:
    """Named secrets over the OS keyring, with an environment fallback.

    Args:
        service: the keyring service name entries are stored under.
        env: the environment to read ``CALLBOARD_SECRET_*`` from (tests pass a dict).
        redactor: where resolved values are registered (the process-wide one by default).
        backend: a keyring backend to use instead of keyring's own choice (tests).
    """

    def __init__(
        self,
        service: str = "callboard",
        env: Mapping[str, str] = os.environ,
        *,
        redactor: Redactor = REDACTOR,
        backend: KeyringBackend | None = None,
    ) -> None:
        self.service = service
        self.env = env
        self.redactor = redactor
        self._backend = backend

    # -- the keyring ---------------------------------------------------------------------

    def _keyring(self) -> tuple[Any, str | None]:
        """The keyring backend and None, or None and why it cannot be used."""
        backend = self._backend
        if backend is None:
            import keyring

            backend = keyring.get_keyring()
        reason = _refusal(backend)
        return (None, reason) if reason else (backend, None)

    def backend_usable(self) -> tuple[bool, str]:
        """Whether secrets can be stored in the keyring, and a sentence saying so or what to do.

        Probes the backend once (a read), which may block on D-Bus: call it from a worker.
        """
        from keyring.errors import KeyringError

        backend, reason = self._keyring()
        if backend is None:
            return False, f"keyring unusable: {reason}. Instead, {_HEADLESS_HELP}."
        try:
            backend.get_password(self.service, INDEX_KEY)
        except KeyringError as exc:
            return (
                False,
                f"keyring {_class_path(backend)} failed ({exc}). Instead, {_HEADLESS_HELP}.",
            )
        return True, f"secrets are stored in the keyring ({_class_path(backend)})"

    def _index(self, backend: Any) -> list[str]:
        raw = backend.get_password(self.service, INDEX_KEY)
        try:
            names = json.loads(raw) if raw else []
        except ValueError:
            names = []
        return sorted({n for n in names if isinstance(n, str)}) if isinstance(names, list) else []

    def _write_index(self, backend: Any, names: set[str]) -> None:
        if names:
            backend.set_password(self.service, INDEX_KEY, json.dumps(sorted(names)))
        else:
            self._forget(backend, INDEX_KEY)

    def _forget(self, backend: Any, key: str) -> bool:
        from keyring.errors import PasswordDeleteError

        try:
            backend.delete_password(self.service, key)
        except PasswordDeleteError:
            return False
        return True

    @staticmethod
    def _check_name(name: str) -> None:
        if not is_secret_name(name):
            raise SecretError(
                f"bad secret name {name!r}: use letters, digits, '-', '_' and '.', "
                "starting with a letter or digit"
            )

    # -- the public surface --------------------------------------------------------------

    def get(self, name: str) -> str:
        """The value of secret ``name``: the keyring first, then ``CALLBOARD_SECRET_<NAME>``.

        Raises:
            SecretError: found in neither place; the message says how to provide it.
        """
        from keyring.errors import KeyringError

        self._check_name(name)
        backend, reason = self._keyring()
        value: str | None = None
        if backend is not None:
            try:
                value = backend.get_password(self.service, name)
            except KeyringError as exc:
                reason = f"keyring {_class_path(backend)} failed ({exc})"
        if not value:
            value = self.env.get(env_var(name)) or None
        if not value:
            if reason:
                raise SecretError(
                    f"secret {name!r} not found: set the environment variable {env_var(name)} "
                    f"(the keyring is unusable: {reason}; once it works, "
                    f"`callboard secrets set {name}` stores it there)"
                )
            raise SecretError(
                f"secret {name!r} not found: store it with `callboard secrets set {name}` "
                f"or set the environment variable {env_var(name)}"
            )
        self.redactor.add(value, name)
        return value

    def set(self, name: str, value: str) -> None:
        """Store ``name`` in the keyring (never on disk).

        Raises:
            SecretError: a bad name, an empty value, or no usable keyring (the message says
                to use ``CALLBOARD_SECRET_<NAME>`` instead).
        """
        from keyring.errors import KeyringError

        self._check_name(name)
        if not value:
            raise SecretError(f"secret {name!r}: refusing to store an empty value")
        self.redactor.add(value, name)
        backend, reason = self._keyring()
        if backend is None:
            raise SecretError(
                f"cannot store secret {name!r} in the keyring: {reason}. Set the environment "
                f"variable {env_var(name)} instead, or {_INSTALL_HELP}"
            )
        try:
            backend.set_password(self.service, name, value)
            self._write_index(backend, {*self._index(backend), name})
        except KeyringError as exc:
            raise SecretError(f"cannot store secret {name!r}: keyring failed ({exc})") from None

    def delete(self, name: str) -> None:
        """Remove ``name`` from the keyring.

        Raises:
            SecretError: it is not in the keyring (if it comes from the environment, the
                message says to unset that variable), or the keyring is unusable.
        """
        from keyring.errors import KeyringError

        self._check_name(name)
        backend, reason = self._keyring()
        if backend is None:
            raise SecretError(f"cannot delete secret {name!r}: {reason}")
        try:
            existed = self._forget(backend, name)
            names = set(self._index(backend))
            if name in names:
                names.discard(name)
                self._write_index(backend, names)
        except KeyringError as exc:
            raise SecretError(f"cannot delete secret {name!r}: keyring failed ({exc})") from None
        if not existed:
            hint = (
                f"; it comes from the environment variable {env_var(name)}: unset it there"
                if env_var(name) in self.env
                else ""
            )
            raise SecretError(f"no secret {name!r} in the keyring{hint}")

    def sources(self) -> list[tuple[str, str]]:
        """``(name, where)`` for every known secret, where is ``keyring`` or the env variable.

        A name found only in the environment is given lower-cased (``CALLBOARD_SECRET_PROM_TOKEN``
        → ``prom_token``), which maps back to the same variable. Never includes values.
        """
        from keyring.errors import KeyringError

        found: dict[str, str] = {}
        backend, _ = self._keyring()
        if backend is not None:
            with contextlib.suppress(KeyringError):  # list what the environment has, at least
                found.update(dict.fromkeys(self._index(backend), "keyring"))
        covered = {env_var(n) for n in found}
        for var in self.env:
            if var.startswith(ENV_PREFIX) and len(var) > len(ENV_PREFIX) and var not in covered:
                found.setdefault(var[len(ENV_PREFIX) :].lower(), var)
        return sorted(found.items())

    def names(self) -> list[str]:
        """Every known secret name (keyring index plus environment), sorted; never values."""
        return [name for name, _ in self.sources()]


def resolve_options(options: Any, store: SecretStore) -> Any:
    """A copy of ``options`` with every ``{secret: NAME}`` replaced by the secret's value.

    Raises:
        SecretError: a referenced secret is missing (the first one met).
    """
    name = secret_ref(options)
    if name is not None:
        return store.get(name)
    if isinstance(options, Mapping):
        out = {key: resolve_options(value, store) for key, value in options.items()}
        prime(options, out, getattr(store, "redactor", REDACTOR))
        return out
    if isinstance(options, list | tuple):
        return type(options)(resolve_options(value, store) for value in options)
    return options


#: Option keys whose string value is a credential even when written into the config as is.
CREDENTIAL_KEYS = frozenset({"password", "bearer", "token", "api_key", "apikey", "secret"})


def prime(raw: Mapping[str, Any], resolved: Mapping[str, Any], redactor: Redactor) -> None:
    """Teach ``redactor`` the credentials of one options mapping, in every form they are
    sent: basic auth (``username`` + ``password``) also as ``base64(user:password)``, what a
    backend echoing ``Authorization: Basic …`` shows; literal (not ``{secret: …}``)
    passwords and tokens too. Names are the secret's, else the key's."""
    for key in CREDENTIAL_KEYS & resolved.keys():
        value = resolved[key]
        if not isinstance(value, str):
            continue
        name = secret_ref(raw.get(key)) or key
        user = resolved.get("username")
        if key == "password" and isinstance(user, str):
            redactor.add_basic(user, value, name)
        else:
            redactor.add(value, name)
