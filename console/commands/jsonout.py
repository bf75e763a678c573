"""The one way a CLI command prints JSON: redacted, compact, valid, in one write.

Valid means strict JSON: Python's ``json`` would otherwise print ``NaN``/``Infinity``,
which ``jq`` and every other strict parser reject. A non-finite float (a trace attribute
``doubleValue: "NaN"``, say) is printed as the string ``"NaN"``, ``"Infinity"`` or
``"-Infinity"``.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

__all__ = ["dumps", "emit_json", "finite"]

#: Nesting deeper than this is left as it is (json.dumps then refuses it, loudly).
_MAX_DEPTH = 200


def finite(obj: Any, depth: int = 0) -> Any:
    """``obj`` with every non-finite float replaced by its name as a string."""
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        return "NaN" if math.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")
    if depth >= _MAX_DEPTH:
        return obj
    if isinstance(obj, dict):
        return {k: finite(v, depth + 1) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite(v, depth + 1) for v in obj]
    return obj


def dumps(obj: Any) -> str:
    """``obj`` as one line of strict, redacted, compact JSON (no trailing newline).

    Redaction runs over the JSON text, once (the redactor knows each secret's JSON-escaped
    form), so echoed credential headers are masked even when no secret is known. The text
    is ASCII: every control character is escaped (``\\u001b``), never raw.
    """
    from console.core.redact import redact

    try:  # the common case: nothing non-finite, no second walk over the document
        text = json.dumps(obj, separators=(",", ":"), allow_nan=False, default=str)
    except ValueError:
        text = json.dumps(finite(obj), separators=(",", ":"), allow_nan=False, default=str)
    return redact(text)


def emit_json(obj: Any) -> None:
    """Print ``obj`` to stdout as :func:`dumps` does, newline-terminated, in one write."""
    sys.stdout.write(dumps(obj) + "\n")
    sys.stdout.flush()
