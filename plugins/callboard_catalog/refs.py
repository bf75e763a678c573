"""Backstage entity names and references, parsed by Backstage's own rules. Pure.

A reference is ``[<kind>:][<namespace>/]<name>`` (or the compound ``{kind, namespace,
name}``); a left-out kind or namespace takes the field's default kind and the *referring
entity's* namespace (what Backstage's BuiltinKindsEntityProcessor does). Names are at most 63
characters of ``[a-zA-Z0-9]`` runs joined by ``-``, ``_`` or ``.``; namespaces are DNS labels.

Callboard writes a reference the way it writes a function id: ``[namespace/]name`` with the
``default`` namespace left out; a kind other than Component or API (whose entities are
functions) is kept in front, e.g. ``resource:artists-db``, ``user:guest``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_NAMESPACE = "default"
#: Kinds whose entities become Callboard functions (their refs are function ids).
FUNCTION_KINDS = frozenset({"component", "api"})

_REF = re.compile(r"^([^:/]+:)?([^:/]+/)?([^:/]+)$")
_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_NAMESPACE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_KIND = re.compile(r"^[a-zA-Z][a-z0-9A-Z]*$")


def name_problem(value: Any) -> str | None:
    """Why ``value`` is not a valid entity name, or None."""
    if value is None or value == "":
        return "metadata.name is required"
    if not isinstance(value, str):
        return f"metadata.name {value!r} must be a string"
    if len(value) > 63:
        return f"metadata.name {value!r} is longer than 63 characters"
    if not _NAME.match(value):
        return f"metadata.name {value!r} must be [a-zA-Z0-9] separated by one of -_."
    return None


def namespace_problem(value: Any) -> str | None:
    """Why ``value`` is not a valid namespace (a lowercase DNS label), or None."""
    if isinstance(value, str) and len(value) <= 63 and _NAMESPACE.match(value):
        return None
    return f"namespace {value!r} must be a lowercase DNS label (a-z, 0-9, -)"


def kind_problem(value: Any) -> str | None:
    """Why ``value`` is not a valid kind, or None."""
    if isinstance(value, str) and len(value) <= 63 and _KIND.match(value):
        return None
    return f"kind {value!r} is not a valid kind" if value else "kind is required"


@dataclass(frozen=True, slots=True)
class Ref:
    """A whole entity reference; ``kind`` lowercased (Backstage compares case-insensitively)."""

    kind: str
    namespace: str
    name: str

    @property
    def key(self) -> tuple[str, str, str]:
        """What two refs to the same entity share (case folded)."""
        return (self.kind, self.namespace.lower(), self.name.lower())

    def short(self) -> str:
        """``[namespace/]name``, the default namespace left out."""
        if self.namespace.lower() == DEFAULT_NAMESPACE:
            return self.name
        return f"{self.namespace}/{self.name}"

    def callboard(self) -> str:
        """The form ids and references take: ``short()``, with the kind unless a function's."""
        if self.kind in FUNCTION_KINDS:
            return self.short()
        return f"{self.kind}:{self.short()}"


class RefError(ValueError):
    """A reference that Backstage would reject; the message says why."""


def parse_ref(ref: Any, default_kind: str | None, namespace: str) -> Ref:
    """``ref`` read in context: ``default_kind`` (None: the kind must be given) and the
    referring entity's ``namespace``.

    Raises:
        RefError: not on the form ``[<kind>:][<namespace>/]<name>``, or no kind.
    """
    if isinstance(ref, Mapping):
        kind, ns, name = ref.get("kind"), ref.get("namespace"), ref.get("name")
        if not isinstance(name, str) or not name:
            raise RefError(f"reference {dict(ref)!r} has no name")
    elif isinstance(ref, str):
        m = _REF.match(ref.strip())
        if m is None:
            raise RefError(f"reference {ref!r} is not on the form [<kind>:][<namespace>/]<name>")
        kind = m.group(1)[:-1] if m.group(1) else None
        ns = m.group(2)[:-1] if m.group(2) else None
        name = m.group(3)
    else:
        raise RefError(f"reference {ref!r} is not a string")
    kind = kind or default_kind
    if not kind:
        raise RefError(f"reference {ref!r} needs a kind, e.g. component:{name}")
    return Ref(str(kind).lower(), str(ns or namespace), name)
