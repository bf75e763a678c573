"""Collapsing concrete URLs in a route label into route templates. Pure, no I/O.

Some exporters label requests with the concrete URL (prometheus-flask-exporter's ``path``:
``/orders/1001``, ``/orders/1002``, ...): hundreds of one-request functions, none with a
rate that means anything. The rule, applied to every route label before aggregation:

1. each ``route_patterns`` template from the config, in order: ``/users/{name}`` matches
   any route with one segment in place of ``{name}`` and becomes the template itself;
2. every path segment that is an *id* becomes ``{id}``: all digits (``1001``), a UUID
   (``8-4-4-4-12`` hex digits), or 16 or more hex digits (hashes, object ids).

Routes that already are templates (``/orders/{order_id}``, ``/orders/<int:id>``) have no
such segments and are left alone. The rule runs inside the PromQL (``label_replace``,
before ``sum``), so counts add up and quantiles are computed over the whole template.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from console.errors import ConfigError

#: One path segment that is an id (RE2 syntax, also valid for Python's ``re``).
ID_SEGMENT = (
    r"[0-9]+"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{16,}"
)
ID = "{id}"
#: How many id segments one route may have collapsed (one ``label_replace`` pass each).
MAX_ID_SEGMENTS = 4
_ID_RE = re.compile(f"(?:{ID_SEGMENT})")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def parse_patterns(value: Any) -> tuple[str, ...]:
    """The ``route_patterns`` option: a list of route templates such as ``/users/{name}``.

    Raises:
        ConfigError: not a list of strings starting with ``/`` with at least one ``{name}``.
    """
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError('route_patterns: expected a list of templates, e.g. ["/users/{name}"]')
    out = []
    for item in value:
        if not isinstance(item, str) or not item.startswith("/"):
            raise ConfigError(f"route_patterns: {item!r} is not a route template starting with /")
        if not _PLACEHOLDER.search(item):
            raise ConfigError(f"route_patterns: {item!r} has no {{name}} placeholder")
        if "{" in _PLACEHOLDER.sub("", item) or "}" in _PLACEHOLDER.sub("", item):
            raise ConfigError(f"route_patterns: {item!r} has a brace outside a {{name}}")
        out.append(item)
    return tuple(out)


def pattern_regex(template: str) -> str:
    """The anchored-by-PromQL regex a template matches: literals escaped, ``{x}`` → one segment."""
    parts = _PLACEHOLDER.split(template)
    # split() alternates literal, name, literal, ...: escape literals, replace names
    return "".join(re.escape(p) if i % 2 == 0 else "[^/]+" for i, p in enumerate(parts))


def collapse(route: str, patterns: Sequence[str] = ()) -> str:
    """What the PromQL rule makes of one route (the same rule, in Python)."""
    for template in patterns:
        if re.fullmatch(pattern_regex(template), route):
            return template
    segments = route.split("/")
    ids = [i for i, s in enumerate(segments) if _ID_RE.fullmatch(s)]
    for i in ids[-MAX_ID_SEGMENTS:]:
        segments[i] = ID
    return "/".join(segments)


def _q(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def collapse_expr(expr: str, label: str, patterns: Iterable[str] = ()) -> str:
    """``expr`` with ``label`` rewritten by the rule (``label_replace`` passes)."""
    for template in patterns:
        # "$" in a replacement starts a group reference: a literal one is "$$"
        expr = (
            f"label_replace({expr}, {_q(label)}, {_q(template.replace('$', '$$'))}, "
            f"{_q(label)}, {_q(pattern_regex(template))})"
        )
    # each pass replaces the last id segment left (".*" is greedy), leaving templates alone
    one = _q(f"(.*)/(?:{ID_SEGMENT})(/.*)?")
    for _ in range(MAX_ID_SEGMENTS):
        expr = f'label_replace({expr}, {_q(label)}, "$1/{ID}$2", {_q(label)}, {one})'
    return expr
