"""YAML loading that remembers where every value came from.

``yaml.safe_load`` semantics (the safe loader, nothing else), plus a :class:`LineMap` that
records the 1-based line of every mapping key and sequence item, so validation can say
``config.yaml:7: backends[1].plugin: ...``. Syntax errors become a located
:class:`~console.errors.ConfigError` carrying the parser's own words. Config and runbook
loading both use this module.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from console.errors import ConfigError

__all__ = [
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


class _Loader(yaml.SafeLoader):
    """The safe loader, with a bad scalar (``2024-13-45``) reported at its own line."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"bad value {node.value!r}: {exc}", node.start_mark
            ) from None


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
    docs: list[tuple[Any, LineMap]] = []
    try:
        loader = _Loader(text)
    except yaml.YAMLError as exc:  # the reader rejects control characters up front
        raise _syntax_error(exc, path, text) from None
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
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, path, text) from None
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


def _read(path: str | Path) -> str:
    p = Path(path).expanduser()
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", str(path)) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, expected a YAML file", str(path)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (bad byte at offset {exc.start})", str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", str(path)) from None


def load_yaml(path: str | Path) -> tuple[Any, LineMap]:
    """Read and parse one YAML file (see :func:`load_yaml_text`).

    Raises:
        ConfigError: unreadable file or a YAML syntax error, located at ``path:line``.
    """
    return load_yaml_text(_read(path), str(path))


def load_yaml_all(path: str | Path) -> list[tuple[Any, LineMap]]:
    """Read every document of a multi-document YAML file (``---`` separated), in order.

    An empty file gives an empty list. Raises ``ConfigError`` like :func:`load_yaml`.
    """
    return load_yaml_all_text(_read(path), str(path))


def load_yaml_all_text(text: str, path: str | None = None) -> list[tuple[Any, LineMap]]:
    """:func:`load_yaml_all` on a string (tests, stdin)."""
    return _load(text, path, multi=True)
