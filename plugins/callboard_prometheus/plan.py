"""The refresh queries over one or several conventions at once.

Discovery can give different jobs different conventions (:mod:`.discovery`). Each query
below is the ``or`` of one part per convention (each restricted to its jobs, folding its
labels into the same canonical ones), so a refresh still sends the same few requests
whatever the number of functions, and latencies all come back in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from . import queries
from .queries import Preset


def _any(parts: Sequence[str | None]) -> str | None:
    real = [p for p in parts if p]
    if not real:
        return None
    return real[0] if len(real) == 1 else " or ".join(f"({p})" for p in real)


def requests(presets: Sequence[Preset], window: str) -> str:
    """Request rate per function and status code, every convention."""
    return _any([queries.requests_by_code(p, window) for p in presets]) or "vector(0)"


#: Label telling which preset (its index) a latency row came from.
PRESET_LABEL = "cb_p"


def latencies(presets: Sequence[Preset], window: str) -> str | None:
    """Quantiles (seconds), every convention, each row tagged with its preset's index
    (``cb_p``) so it can be compared with that histogram's highest finite bucket."""
    parts = [queries.latencies(p, window, seconds=True) for p in presets]
    return _any(
        [queries.tagged(q, PRESET_LABEL, str(i)) if q else None for i, q in enumerate(parts)]
    )


def burn(presets: Sequence[Preset], windows: Mapping[str, str]) -> str | None:
    """Requests per function, code and burn window, every convention."""
    return _any([queries.burn_windows(p, windows) for p in presets]) if windows else None


def discover(presets: Sequence[Preset]) -> str:
    """Every function of every convention, one row each."""
    return _any([queries.discover(p) for p in presets]) or "vector(0)"
