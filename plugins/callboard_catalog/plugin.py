"""The catalog plugin: owners, tiers, systems, SLOs and runbooks from YAML files.

Config: ``path``, a file, a directory (every ``*.yaml``/``*.yml`` below it) or a list of
them; Backstage ``Location`` entities in them are followed (see :mod:`.walk`). Files are read
at start (a bad named file stops the config with ``file:line``) and again whenever one of the
files read changes. Entities that cannot be used are listed as the backend's warnings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from console.core.model import BackendStatus, Function
from console.errors import BadResponse, ConfigError
from console.plugin_api import Option, PluginContext, check_options

from .walk import Catalog, catalog_files, walk

#: Warnings shown on the backend; the rest are counted.
MAX_WARNINGS = 20

__all__ = ["CatalogPlugin", "catalog_files", "load"]


def _resolve(cat: Catalog) -> tuple[list[Function], list[str]]:
    """Functions merged by id (first wins, a second definition warned about), and their
    dependencies written as the referenced entity's id when the catalog knows it
    (Backstage references match case-insensitively)."""
    warnings = list(cat.parsed.warnings)
    known = {e.casefold(): e for e in reversed(cat.parsed.entities)}
    known.update({f.id.casefold(): f.id for f in reversed(cat.parsed.functions)})
    seen: dict[str, Function] = {}
    for fn in cat.parsed.functions:
        first = seen.get(fn.id)
        if first is None:
            deps = tuple(known.get(d.casefold(), d) for d in fn.dependencies)
            seen[fn.id] = replace(fn, dependencies=deps) if deps != fn.dependencies else fn
        elif first.labels.get("entity") == fn.labels.get("entity") and "entity" in fn.labels:
            warnings.append(f"{fn.labels['entity']} is defined more than once; the first is used")
    return list(seen.values()), warnings


def load(paths: list[str], source: str) -> tuple[list[Function], list[str], list[Path]]:
    """Every Function in the catalog, the warnings, and the files read. Raises ConfigError."""
    cat = walk(paths, source)
    functions, warnings = _resolve(cat)
    return functions, warnings, cat.files


def _shown(warnings: list[str]) -> tuple[str, ...]:
    if len(warnings) <= MAX_WARNINGS:
        return tuple(warnings)
    more = len(warnings) - MAX_WARNINGS
    return (*warnings[:MAX_WARNINGS], f"… and {more} more catalog warnings")


class CatalogPlugin:
    """Inventory from a Callboard function list and/or Backstage catalog-info.yaml files."""

    OPTIONS: ClassVar[tuple[Option, ...]] = (
        Option("path", "str|list", "a file, a directory or a list of them", required=True),
    )

    def __init__(self, name: str, options: Mapping[str, Any], ctx: PluginContext) -> None:
        check_options("catalog", self.OPTIONS, options)
        self.name = name
        raw = options.get("path")
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw or not all(isinstance(p, str) for p in raw):
            raise ConfigError("path: expected a file, a directory or a list of them")
        self.paths: list[str] = raw
        self._functions, warnings, self._files = load(self.paths, name)
        #: Read by the fleet after each call and shown on the backend.
        self.warnings: tuple[str, ...] = _shown(warnings)
        self._stamp = self._mtimes()

    def _mtimes(self) -> tuple[tuple[str, float], ...]:
        """Every file read last time, and every file the config names now."""
        try:
            files = dict.fromkeys([*self._files, *catalog_files(self.paths)])
            return tuple((str(f), f.stat().st_mtime) for f in files)
        except (ConfigError, OSError):
            return ()

    async def functions(self) -> list[Function]:
        """The catalog, re-read when a file changed. Raises: BadResponse for a bad edit."""
        stamp = self._mtimes()
        if stamp != self._stamp:
            try:
                self._functions, warnings, self._files = load(self.paths, self.name)
            except ConfigError as exc:
                raise BadResponse(str(exc)) from None
            self.warnings = _shown(warnings)
            self._stamp = self._mtimes()
        return list(self._functions)

    async def check(self) -> BackendStatus:
        try:
            n = len(await self.functions())
        except BadResponse as exc:
            return BackendStatus(self.name, "catalog", ok=False, error=str(exc))
        empty = () if n else ("catalog is empty",)
        return BackendStatus(self.name, "catalog", ok=True, warnings=(*self.warnings, *empty))

    async def aclose(self) -> None:
        return None
