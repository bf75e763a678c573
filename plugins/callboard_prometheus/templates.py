"""Custom PromQL templates (``preset: custom``, ``queries:``): placeholders that cannot
collide with PromQL's braces. Pure.

A placeholder is ``$name`` or ``${name}``; ``$$`` is a literal ``$``. ``$1`` (a digit: a
``label_replace`` group) and every brace are left alone, so ``{job="x"}`` is just PromQL.
A template returns series in the exporter's own labels; Callboard then maps them to
functions with ``labels:`` (and collapses URL routes) as for any preset: requests it sums
per function and status code, latency (one ``histogram_quantile`` at ``$q``) it relabels.

=============  =====================================================  ==================
placeholder    becomes                                                in
=============  =====================================================  ==================
``$window``    the range, e.g. ``5m`` (``rate(x[$window])``)           requests, latency
``$by``        the exporter's label names the ``labels:`` roles list   requests, latency
               (and ``le`` in latency): ``sum by ($by) (...)``
``$selector``  the configured ``selector`` matchers, without braces    requests, latency
``$q``         the quantile, e.g. ``0.99``                             latency
=============  =====================================================  ==================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from console.errors import ConfigError

#: The placeholders each template may use.
ALLOWED: Mapping[str, tuple[str, ...]] = {
    "requests": ("window", "by", "selector"),
    "latency": ("window", "by", "selector", "q"),
}
_PLACEHOLDER = re.compile(r"\$(?:(\$)|([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})")
_OLD = re.compile(r"(?<!\$)\{(window|by|q)\}")


def check(templates: Any) -> dict[str, str]:
    """The ``queries`` option, each template's placeholders checked.

    Raises:
        ConfigError: not a mapping of ``requests``/``latency`` to PromQL text, an unknown
            placeholder, or an old ``{window}``-style one.
    """
    if templates is None:
        return {}
    if not isinstance(templates, Mapping) or set(templates) - set(ALLOWED):
        raise ConfigError("queries: expected {requests: PROMQL, latency: PROMQL}")
    out = {}
    for key, text in templates.items():
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"queries.{key}: expected PromQL text")
        allowed = ALLOWED[key]
        for m in _PLACEHOLDER.finditer(text):
            name = m.group(2) or m.group(3)
            if name and name not in allowed:
                expected = ", ".join(f"${a}" for a in allowed)
                raise ConfigError(
                    f"queries.{key}: unknown placeholder ${name} (expected {expected}; "
                    "$$ for a literal $)"
                )
        old = _OLD.search(text)
        if old:
            raise ConfigError(
                f"queries.{key}: {old.group(0)} is not a placeholder (braces are PromQL); "
                f"write ${old.group(1)}"
            )
        out[key] = text
    return out


def fill(text: str, **values: str) -> str:
    """``text`` with its placeholders replaced (checked by :func:`check` beforehand)."""

    def one(m: re.Match[str]) -> str:
        if m.group(1):
            return "$"
        return values[m.group(2) or m.group(3)]

    return _PLACEHOLDER.sub(one, text)
