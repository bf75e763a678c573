"""The bounded YAML loaders behind :mod:`console.yamlload` (limits documented there).

Depth and alias expansion are counted in the composer, where every node passes once before
anything is constructed; the size limit is applied by the reader in ``yamlload``.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.nodes import Node
from yaml.resolver import Resolver

__all__ = [
    "LOADERS",
    "MAX_CATALOG_BYTES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "Bounded",
    "Loader",
]

#: Largest config or runbook file read (bytes).
MAX_FILE_BYTES = 1024 * 1024
#: Largest catalog file read (bytes): Backstage exports are bigger than hand-written files.
MAX_CATALOG_BYTES = 8 * 1024 * 1024
#: Deepest nesting of mappings/sequences accepted in one document.
MAX_DEPTH = 64
#: Most nodes one document may stand for, each alias counted as its anchor's whole subtree.
MAX_NODES = 1_000_000


class Bounded(yaml.MarkedYAMLError):
    """A document over a bound (depth or alias expansion), at the node where it tipped over."""


class _Bounds(Composer):
    """Loader mixin: nesting depth and alias expansion bounded while composing (before
    anything is constructed), and a bad scalar (``2024-13-45``) reported at its own line."""

    _depth = 0
    _nodes = 0  # nodes of this document, aliases expanded
    _sizes: dict[int, int]  # id(node) -> expanded size of its subtree

    def compose_document(self) -> Node | None:
        self._nodes = 0
        self._sizes = {}
        return super().compose_document()

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[attr-defined]  # from the parser mixed in
        if isinstance(event, yaml.AliasEvent):
            target = self.anchors.get(event.anchor)
            # an alias to a node still being composed (recursive) counts as one node
            self._count(self._sizes.get(id(target), 1), event)
            return super().compose_node(parent, index)
        self._count(1, event)
        mark: Any = event.start_mark  # libyaml's marks have the same line and column
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise Bounded(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
        start = self._nodes
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        self._sizes[id(node)] = self._nodes - start
        return node

    def _count(self, n: int, event: yaml.Event) -> None:
        self._nodes += n
        mark: Any = event.start_mark
        if self._nodes > MAX_NODES:
            raise Bounded(
                None,
                None,
                f'aliases expand to more than {MAX_NODES:,} nodes (a "billion laughs" '
                "document?); write the values out or use fewer nested aliases",
                mark,
            )

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)  # type: ignore[misc]
        except (ValueError, TypeError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"bad value {node.value!r}: {exc}", node.start_mark
            ) from None


class Loader(_Bounds, yaml.SafeLoader):
    """The pure-Python safe loader, bounded: its error messages are the ones users see."""

    def __init__(self, stream: str) -> None:
        yaml.SafeLoader.__init__(self, stream)
        self._sizes = {}


_CParser: Any = getattr(getattr(yaml, "_yaml", None), "CParser", None)


if _CParser is not None and yaml.__with_libyaml__:

    class _FastLoader(_Bounds, _CParser, SafeConstructor, Resolver):
        """libyaml's scanner and parser (≈6× faster) under PyYAML's Python composer, so the
        bounds and line marks work the same. Only used for text that parses: on any error
        the pure-Python loader parses again and reports in PyYAML's words."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            Composer.__init__(self)
            self._sizes = {}

    LOADERS: tuple[type, ...] = (_FastLoader, Loader)
else:  # pragma: no cover - PyYAML built without libyaml
    LOADERS = (Loader,)
