"""The catalog plugin: owners, tiers, SLOs and runbooks from YAML files.

Config: ``path``, a file, a directory (every ``*.yaml``/``*.yml`` below it) or a list of
them. Files are read at start (a bad file stops the config with ``file:line``) and again
whenever one changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from console.core.model import BackendStatus, Function
from console.errors import BadResponse, ConfigError
from console.plugin_api import PluginContext
from console.yamlload import load_yaml_all

from . import parse

MAX_FILES = 10_000


def catalog_files(paths: list[str]) -> list[Path]:
    """The YAML files named by ``paths`` (directories searched recursively, sorted).

    Raises:
        ConfigError: a path that does not exist, or too many files.
    """
    out: list[Path] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            found = sorted(q for q in p.rglob("*") if q.suffix in (".yaml", ".yml") and q.is_file())
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise ConfigError("catalog path not found", str(raw))
        if len(out) > MAX_FILES:
            raise ConfigError(f"more than {MAX_FILES} catalog files", str(raw))
    return out


def load(paths: list[str], source: str) -> list[Function]:
    """Every Function in the catalog files, merged by id (first wins). Raises ConfigError."""
    seen: dict[str, Function] = {}
    for f in catalog_files(paths):
        for data, lines in load_yaml_all(f):
            for fn in parse.document(data, lines, str(f), source):
                seen.setdefault(fn.id, fn)
    return list(seen.values())


class CatalogPlugin:
    """Inventory from a Callboard function list and/or Backstage catalog-info.yaml files."""

    def __init__(self, name: str, options: Mapping[str, Any], ctx: PluginContext) -> None:
        self.name = name
        raw = options.get("path")
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw or not all(isinstance(p, str) for p in raw):
            raise ConfigError("path: expected a file, a directory or a list of them")
        self.paths: list[str] = raw
        self._stamp = self._mtimes()
        self._functions = load(self.paths, name)

    def _mtimes(self) -> tuple[tuple[str, float], ...]:
        try:
            return tuple((str(f), f.stat().st_mtime) for f in catalog_files(self.paths))
        except (ConfigError, OSError):
            return ()

    async def functions(self) -> list[Function]:
        """The catalog, re-read when a file changed. Raises: BadResponse for a bad edit."""
        stamp = self._mtimes()
        if stamp != self._stamp:
            try:
                self._functions = load(self.paths, self.name)
            except ConfigError as exc:
                raise BadResponse(str(exc)) from None
            self._stamp = stamp
        return list(self._functions)

    async def check(self) -> BackendStatus:
        try:
            n = len(await self.functions())
        except BadResponse as exc:
            return BackendStatus(self.name, "catalog", ok=False, error=str(exc))
        return BackendStatus(
            self.name, "catalog", ok=True, warnings=() if n else ("catalog is empty",)
        )

    async def aclose(self) -> None:
        return None
