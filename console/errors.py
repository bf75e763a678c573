"""Callboard's error types. Every error a user can meet carries a human message.

Plugins raise only ``BackendError`` subclasses; the CLI turns ``UserError`` into a
message and exit code 2, never a traceback.
"""

from __future__ import annotations


class CallboardError(Exception):
    """Base of every error Callboard raises on purpose."""


class UserError(CallboardError):
    """Bad input from the user (config, runbook, params): reported, exit code 2."""

    exit_code = 2


class ConfigError(UserError):
    """A problem in a config or runbook file, located at ``path:line``."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        super().__init__(self.located())

    def located(self) -> str:
        if self.path and self.line:
            return f"{self.path}:{self.line}: {self.message}"
        if self.path:
            return f"{self.path}: {self.message}"
        return self.message


class ConfigErrors(UserError):
    """Several located problems found in one pass (``callboard check`` shows them all)."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.located() for e in errors))


class PluginNotFound(UserError):
    """A config names a plugin that no installed package provides, or that fails to load."""


class SecretError(UserError):
    """A secret is missing, or no keyring backend is usable."""


class StoreError(UserError):
    """The store's file or path is unusable (not a database, damaged, a directory, a device,
    read-only): one line naming the file and what to do, exit code 2."""


class StoreUnavailable(CallboardError):
    """The environment failed the store (disk full, I/O error, locked): exit code 1. What
    was stored before is intact (SQLite rolls the failed transaction back)."""

    exit_code = 1


class BackendError(CallboardError):
    """A backend call failed. ``retryable`` says whether backing off and retrying may help."""

    retryable = False


class BackendUnavailable(BackendError):
    """Connection refused, timed out, not ready, or a 5xx."""

    retryable = True


class BackendAuthError(BackendError):
    """The backend refused our credentials (401/403)."""


class BadResponse(BackendError):
    """The backend answered with something we cannot read (malformed, wrong shape, bad query)."""


class ActionError(CallboardError):
    """An action could not be planned or executed."""
