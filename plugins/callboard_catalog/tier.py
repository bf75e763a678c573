"""Where real catalog-info files keep a service's tier, and how it is read. Pure.

Looked for in this order; the first key that holds a tier number wins:

1. ``metadata.annotations["callboard.io/tier"]`` — Callboard's own, for an explicit choice.
2. ``metadata.labels.tier``.
3. an annotation or label named ``<prefix>/tier`` or ``<prefix>/service-tier`` (e.g.
   ``contentful.com/service-tier: "4"`` in Contentful's public repositories).
4. a tag ``tier-N`` / ``tierN`` / ``tier_N`` (e.g. ``tags: [tier-1]``, the most common form in
   public catalog-info files).

A tier number is ``1``, ``tier-1``, ``tier1``, ``Tier 1`` or ``t1`` (0–99). A tier key whose
value is not one (``tier: backend``, ``service-tier: unknown``) leaves the tier empty and says
so; a word such as ``critical`` is never turned into a number.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from console.yamlload import format_path

_NUMBER = re.compile(r"^(?:tier|t)?[\s_-]?(\d{1,2})$", re.IGNORECASE)
_TAG = re.compile(r"^tier[\s_-]?(.+)$", re.IGNORECASE)
_SUFFIXES = ("/tier", "/service-tier")

Where = tuple[Hashable, ...]


def tier_number(value: Any) -> int | None:
    """``"tier-1"`` → 1; None when ``value`` is not a tier number."""
    if isinstance(value, bool):
        return None
    m = _NUMBER.match(str(value).strip())
    return int(m.group(1)) if m else None


def _candidates(
    ann: Mapping[Any, Any], labels: Mapping[Any, Any], tags: Sequence[Any]
) -> list[tuple[Where, Any]]:
    out: list[tuple[Where, Any]] = []
    if "callboard.io/tier" in ann:
        out.append((("metadata", "annotations", "callboard.io/tier"), ann["callboard.io/tier"]))
    if "tier" in labels:
        out.append((("metadata", "labels", "tier"), labels["tier"]))
    for field, m in (("annotations", ann), ("labels", labels)):
        for key in sorted(str(k) for k in m):
            if key != "callboard.io/tier" and key.lower().endswith(_SUFFIXES):
                out.append((("metadata", field, key), m[key]))
    for i, tag in enumerate(tags):
        t = _TAG.match(str(tag).strip())
        if t:
            out.append((("metadata", "tags", i), t.group(1)))
    return out


def read_tier(
    ann: Mapping[Any, Any], labels: Mapping[Any, Any], tags: Sequence[Any]
) -> tuple[int | None, tuple[Where, str] | None]:
    """The tier, and a problem to report (where, message) when tier keys held no number."""
    found = _candidates(ann, labels, tags)
    for _where, value in found:
        n = tier_number(value)
        if n is not None:
            return n, None
    if not found:
        return None, None
    where, value = found[0]
    return None, (where, f"{format_path(where)}: {value!r} is not a tier number; tier left empty")
