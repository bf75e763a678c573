"""YAML loading that remembers where every value came from.

``yaml.safe_load`` semantics (the safe loader, nothing else), plus a :class:`LineMap` that
records the 1-based line of every mapping key and sequence item, so validation can say
``config.yaml:7: backends[1].plugin: ...``. Syntax errors become a located
:class:`~console.errors.ConfigError` carrying the parser's own words. Config, runbook and
catalog loading all use this module.

Hostile files are bounded before they cost anything (each a located ``ConfigError``, exit 2):

- size: a config or runbook over :data:`MAX_FILE_BYTES` (1 MiB, ~50× the largest shipped
  file), a catalog over :data:`MAX_CATALOG_BYTES` (8 MiB: a Backstage export of a few
  thousand entities), refused before reading — a 12 MB file no longer costs a minute;
- nesting: deeper than :data:`MAX_DEPTH` (64) levels — no Callboard file needs more than ~6,
  and PyYAML's recursive composer would raise ``RecursionError`` near ~300;
- aliases: a document whose nodes, counting every alias as the whole subtree it stands for,
  exceed :data:`MAX_NODES` (1,000,000) — counted while composing, before anything is
  constructed, so "billion laughs" stops at the first million.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from console.errors import ConfigError
from console.yamlbounds import (
    LOADERS,
    MAX_CATALOG_BYTES,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    Bounded,
    Loader,
)

__all__ = [
    "MAX_CATALOG_BYTES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "LineMap",
    "format_path",
    "load_yaml",
    "load_yaml_all",
    "load_yaml_all_text",
    "load_yaml_text",
]

PathKey = tuple[Hashable, ...]
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class LineMap:
    """The line of each key and item in one YAML document, by path.

    A path is a tuple of mapping keys and sequence indexes from the document root, e.g.
    ``("backends", 0, "url")``.
    """

    lines: dict[PathKey, int] = field(default_factory=dict)
    duplicates: list[tuple[PathKey, int, int]] = field(default_factory=list)
    """Keys given twice in one mapping: ``(path, line, line of the first one)``. YAML keeps
    the last silently; validators report these."""

    def of(self, path: Sequence[Hashable]) -> int | None:
        """The line of ``path``, else of its nearest recorded parent; None for an empty file."""
        key = tuple(path)
        while True:
            line = self.lines.get(key)
            if line is not None:
                return line
            if not key:
                return None
            key = key[:-1]


def format_path(path: Sequence[Hashable]) -> str:
    """``("backends", 1, "plugin")`` → ``backends[1].plugin`` (the form errors use)."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _key_of(loader: yaml.SafeLoader, node: Node) -> Hashable | None:
    if not isinstance(node, ScalarNode):
        return None  # complex keys are legal YAML but never meaningful to Callboard
    try:
        key = loader.construct_object(node)
    except (yaml.YAMLError, ValueError, TypeError):
        return str(node.value)
    return key if isinstance(key, Hashable) else None


def _record(loader: yaml.SafeLoader, root: Node) -> LineMap:
    """Walk the node tree depth-first in document order; each node is entered once, so an
    alias reuses its anchor's lines (and a recursive or exponential alias graph stays cheap)."""
    lines = LineMap()
    lines.lines[()] = root.start_mark.line + 1
    seen: set[int] = set()
    stack: list[tuple[Node, PathKey]] = [(root, ())]
    while stack:  # bounded: every node is pushed at most once
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        children: list[tuple[Node, PathKey]] = []
        if isinstance(node, MappingNode):
            last: dict[Hashable, tuple[Node, int]] = {}  # YAML keeps the last of duplicates
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = _key_of(loader, key_node)
                if key is None:
                    continue
                line = key_node.start_mark.line + 1
                if key in last:
                    lines.duplicates.append(((*path, key), line, last[key][1]))
                last[key] = (value_node, line)
            for key, (value_node, line) in last.items():
                lines.lines[(*path, key)] = line
                children.append((value_node, (*path, key)))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                child = (*path, index)
                lines.lines[child] = item.start_mark.line + 1
                children.append((item, child))
        stack.extend(reversed(children))
    loader.constructed_objects = {}  # keys built above must not leak into construction
    return lines


def _syntax_error(exc: Exception, path: str | None, text: str) -> ConfigError:
    if isinstance(exc, Bounded):
        mark = exc.problem_mark
        return ConfigError(str(exc.problem), path, mark.line + 1 if mark is not None else None)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "unreadable YAML"
        message = f"invalid YAML: {problem}"
        if exc.context and exc.problem and exc.problem.startswith("but "):
            message = f"invalid YAML: {exc.context}, {exc.problem}"
        elif exc.context and exc.problem:
            where = exc.context
            if exc.context_mark is not None and exc.context_mark.line + 1 != line:
                where += f" that started at line {exc.context_mark.line + 1}"
            message += f" ({where})"
        return ConfigError(message, path, line)
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        return ConfigError(f"invalid YAML: {exc.reason} (#x{exc.character:04x})", path, line)
    return ConfigError(f"invalid YAML: {exc}", path)


def _load(text: str, path: str | None, multi: bool) -> list[tuple[Any, LineMap]]:
    # libyaml accepts some control characters PyYAML's reader refuses: those go the slow way
    fast = len(LOADERS) > 1 and not yaml.reader.Reader.NON_PRINTABLE.search(text)
    if fast:
        try:
            return _load_with(LOADERS[0], text, multi)
        except Bounded as exc:
            raise _syntax_error(exc, path, text) from None
        except yaml.YAMLError:
            pass  # parse again below, for PyYAML's own words and marks
    try:
        return _load_with(Loader, text, multi)
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, path, text) from None


def _load_with(cls: type, text: str, multi: bool) -> list[tuple[Any, LineMap]]:
    docs: list[tuple[Any, LineMap]] = []
    loader = cls(text)  # the pure-Python reader rejects control characters here
    try:
        nodes: list[Node | None] = []
        if multi:
            while loader.check_node():
                nodes.append(loader.get_node())
        else:
            nodes.append(loader.get_single_node())  # raises on a second document
        for node in nodes:
            if node is not None:
                lines = _record(loader, node)
                docs.append((loader.construct_document(node), lines))
    finally:
        loader.dispose()
    return docs


def load_yaml_text(text: str, path: str | None = None) -> tuple[Any, LineMap]:
    """Parse one YAML document; an empty (or all-comment, or null) document is ``{}``.

    Raises:
        ConfigError: a syntax error, located at ``path:line`` with the parser's words.
    """
    docs = _load(text, path, multi=False)
    if not docs:
        return {}, LineMap()
    data, lines = docs[0]
    return ({} if data is None else data), lines


def _read(path: str | Path, max_bytes: int) -> str:
    p = Path(path).expanduser()
    try:
        with p.open("rb") as f:
            # read one byte past the limit: a file that grows (or a FIFO) is bounded too
            raw = f.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise ConfigError(
                f"file larger than {_mib(max_bytes)} (the limit for this kind of file); "
                "split it or trim it",
                str(path),
            )
        return raw.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", str(path)) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, expected a YAML file", str(path)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (bad byte at offset {exc.start})", str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", str(path)) from None


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):g} MiB"


def load_yaml(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> tuple[Any, LineMap]:
    """Read and parse one YAML file (see :func:`load_yaml_text`), at most ``max_bytes``.

    Raises:
        ConfigError: unreadable or oversized file, a YAML syntax error, too deep nesting or
            too much alias expansion, located at ``path:line``.
    """
    return load_yaml_text(_read(path, max_bytes), str(path))


def load_yaml_all(
    path: str | Path, *, max_bytes: int = MAX_CATALOG_BYTES
) -> list[tuple[Any, LineMap]]:
    """Read every document of a multi-document YAML file (``---`` separated), in order.

    The size limit defaults to the catalog's (the one multi-document reader). An empty file
    gives an empty list. Raises ``ConfigError`` like :func:`load_yaml`.
    """
    return load_yaml_all_text(_read(path, max_bytes), str(path))


def load_yaml_all_text(text: str, path: str | None = None) -> list[tuple[Any, LineMap]]:
    """:func:`load_yaml_all` on a string (tests, stdin)."""
    return _load(text, path, multi=True)
