"""What an export learns before it writes: every secret this install knows, into the redactor.

An event may hold a raw secret — written by a process that did not know it yet (the secret
was set later, or lives only in another process's config). Before any export renders, the
engine resolves every secret it can name (keyring index, ``CALLBOARD_SECRET_*`` variables,
and the names a config refers to), which registers each value with the process redactor,
so the export hides it whoever asked for it: ``callboard export``, the console's timeline,
a script.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Protocol

from console.errors import CallboardError

__all__ = ["SecretSource", "prime_redactor"]


class SecretSource(Protocol):
    """Where secrets are found by name (:class:`~console.engine.secrets.SecretStore` fits);
    ``get`` registers the value it returns with the process redactor."""

    def names(self) -> list[str]:
        """Every secret name it knows (never values)."""
        ...

    def get(self, name: str) -> str:
        """The value of one secret (raises a ``CallboardError`` when it has none)."""
        ...


def prime_redactor(secrets: SecretSource | None = None, referenced: Iterable[str] = ()) -> None:
    """Resolve every secret ``secrets`` knows, and the ``referenced`` names (a config's
    ``secret: NAME`` references), so the redactor hides their values.

    ``secrets`` None: this install's store (the OS keyring and the environment). A secret
    that cannot be resolved, or a keyring that cannot be listed, is skipped: an export
    must not fail for it.
    """
    if secrets is None:
        from console.engine.store.secrets import SecretStore

        secrets = SecretStore()
    names = set(referenced)
    with contextlib.suppress(CallboardError):
        names.update(secrets.names())
    for name in sorted(names):
        with contextlib.suppress(CallboardError):
            secrets.get(name)
