"""Plugin discovery through the ``callboard.plugins`` entry-point group.

Listing names never imports a plugin; loading one that is unknown or broken raises
``PluginNotFound`` with a message naming it and what is installed.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from console.errors import PluginNotFound

GROUP = "callboard.plugins"


def available() -> dict[str, EntryPoint]:
    """Installed plugins by name, without importing any of them."""
    return dict(_scan())


@cache
def _scan() -> tuple[tuple[str, EntryPoint], ...]:
    # Reading entry points walks every installed distribution (~20 ms in a full venv): once
    # per process, not once per backend (a fleet loads several plugins at start).
    return tuple((ep.name, ep) for ep in entry_points(group=GROUP))


def load(name: str) -> type[Any]:
    """The plugin class registered as ``name``.

    Raises:
        PluginNotFound: no such plugin, or importing it failed.
    """
    eps = available()
    ep = eps.get(name)
    if ep is None:
        known = ", ".join(sorted(eps)) or "none"
        raise PluginNotFound(f"unknown plugin {name!r} (installed plugins: {known})")
    try:
        cls = ep.load()
    except Exception as exc:  # a broken third-party plugin must not crash Callboard
        raise PluginNotFound(
            f"plugin {name!r} ({ep.value}) failed to load: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(cls, type):
        raise PluginNotFound(f"plugin {name!r} ({ep.value}) is not a class")
    return cls
