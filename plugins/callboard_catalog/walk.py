"""Reading the catalog files, following Backstage ``Location`` entities. Local files only.

A Location's ``spec.target``/``spec.targets`` are files, directories (every ``*.yaml``/
``*.yml`` below) or globs (``./services/*/catalog-info.yaml``, ``./**/*.yaml``), resolved
against the folder of the file that holds the Location. Callboard never reads the network: an
``http(s)://`` or ``url:`` target is reported as not followed. A file is read once however
many Locations name it; a Location that leads back to itself is reported as a cycle. At most
``MAX_FILES`` files (each at most the YAML reader's ``MAX_CATALOG_BYTES``) and ``MAX_DEPTH`` nested Locations are read;
beyond that, a warning says where reading stopped.

A file the config names fails loudly (a ``ConfigError`` with file:line), as does a broken file
in a directory it names; YAML that is not a catalog document in such a directory (an OpenAPI
file), and any problem in a file reached through a Location, becomes a warning and the rest
loads.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from console.errors import ConfigError
from console.yamlload import load_yaml_all

from . import parse
from .entity import Parsed, Target

MAX_FILES = 10_000
MAX_DEPTH = 32
_SUFFIXES = (".yaml", ".yml")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def _yaml_below(d: Path) -> list[Path]:
    return sorted(q for q in d.rglob("*") if q.suffix in _SUFFIXES and q.is_file())


def _glob(pattern: Path) -> list[Path]:
    """The YAML files an absolute glob matches, sorted, without "a/../b" in their names."""
    rel = pattern.relative_to(pattern.anchor)
    found = Path(pattern.anchor).glob(str(rel))
    return sorted(
        {Path(os.path.normpath(q)) for q in found if q.suffix in _SUFFIXES and q.is_file()}
    )


def catalog_files(paths: list[str]) -> list[Path]:
    """The YAML files the config names (directories searched recursively, sorted).

    Raises:
        ConfigError: a path that does not exist, or more than MAX_FILES files.
    """
    out: list[Path] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            out.extend(_yaml_below(p))
        elif p.is_file():
            out.append(p)
        else:
            raise ConfigError("catalog path not found", str(raw))
        if len(out) > MAX_FILES:
            raise ConfigError(f"more than {MAX_FILES} catalog files", str(raw))
    return out


@dataclass
class Catalog:
    """Everything read: the parsed documents and every file read (for change detection)."""

    parsed: Parsed = field(default_factory=Parsed)
    files: list[Path] = field(default_factory=list)


@dataclass
class _Walk:
    source: str
    max_files: int = MAX_FILES
    out: Catalog = field(default_factory=Catalog)
    seen: set[Path] = field(default_factory=set)
    stopped: bool = False

    def warn(self, message: str) -> None:
        self.out.parsed.warnings.append(message)

    def expand(self, t: Target, holder: Path) -> list[Path]:
        """The files one target names; warnings for what cannot be followed."""
        where = f"{holder}:{t.line}" if t.line else str(holder)
        text = t.text.removeprefix("file:")
        if text.startswith("url:") or _URL.match(text) or t.type not in (None, "file", "url"):
            self.warn(
                f"{where}: Location target {t.text!r} not followed (Callboard reads "
                "local files only)"
            )
            return []
        base = holder.parent
        p = Path(text).expanduser()
        try:
            if any(c in text for c in "*?["):
                found = _glob(p if p.is_absolute() else base / p)
                if not found and not t.optional:
                    self.warn(f"{where}: Location target {t.text!r} matches no file")
                return found
            p = Path(os.path.normpath(p if p.is_absolute() else base / p))  # no "a/../b"
            if p.is_dir():
                return _yaml_below(p)
            if p.is_file():
                return [p]
        except (ValueError, OSError) as exc:  # a bad pattern, an unreadable folder
            self.warn(f"{where}: Location target {t.text!r} not followed: {exc}")
            return []
        if not t.optional:
            self.warn(f"{where}: Location target {t.text!r} not found ({p})")
        return []

    def read(self, f: Path, origin: str) -> Parsed | None:
        """One file's documents; None (after a warning) when it cannot be used."""
        # The size limit is the YAML reader's (MAX_CATALOG_BYTES): over it, the file the
        # config names stops the config, a followed one is a warning, like any bad file.
        got = Parsed()
        try:
            for data, lines in load_yaml_all(f):
                got.extend(parse.document(data, lines, str(f), self.source))
        except parse.NotCatalog as exc:
            if origin == "named":
                raise
            self.warn(f"{exc.located()}; not a catalog file, skipped")
            return None
        except ConfigError as exc:
            if origin != "followed":
                raise
            self.warn(f"{exc.located()}; file skipped")
            return None
        self.out.files.append(f)
        return got

    def visit(self, start: Path, origin: str) -> None:
        """Read ``start`` and, depth first, every file its Locations lead to."""
        stack: list[tuple[Path, tuple[Path, ...], str]] = [(start, (), origin)]
        while stack:  # bounded: each file is read once and at most MAX_FILES are read
            f, chain, how = stack.pop()
            key = f.resolve()
            if key in chain:
                self.warn(f"{chain[-1]}: Location cycle: {f} leads back to itself; not read again")
                continue
            if key in self.seen:
                continue
            full = len(self.seen) >= self.max_files
            if full or len(chain) > MAX_DEPTH:
                if not self.stopped:
                    why = f"{self.max_files} files" if full else f"{MAX_DEPTH} nested Locations"
                    self.warn(f"{f}: stopped following Locations after {why}")
                    self.stopped = True
                continue
            self.seen.add(key)
            got = self.read(f, how)
            if got is None:
                continue
            targets, got.targets = got.targets, []
            self.out.parsed.extend(got)
            nxt = [q for t in targets for q in self.expand(t, f)][: self.max_files]
            stack.extend((q, (*chain, key), "followed") for q in reversed(nxt))


def walk(paths: list[str], source: str, max_files: int = MAX_FILES) -> Catalog:
    """Every file the config names and every file their Locations lead to.

    Raises:
        ConfigError: a named path missing, or a bad named file (syntax, bad function list).
    """
    w = _Walk(source, max_files)
    for raw in paths:
        p = Path(raw).expanduser()
        for f in catalog_files([raw]):
            w.visit(f, "scanned" if p.is_dir() else "named")
    return w.out
