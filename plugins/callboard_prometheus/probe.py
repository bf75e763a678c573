"""The custom queries as ``callboard check --probe`` runs them: each template once, its
placeholders replaced as a refresh replaces them."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Protocol

from console.core.slo import parse_window
from console.errors import BackendError

from . import queries
from .queries import Preset


class Probing(Protocol):
    """What a probe reads of the plugin (a Protocol, so this module need not import it)."""

    @property
    def presets(self) -> Sequence[Preset]: ...

    @property
    def rate_window_s(self) -> float | None: ...

    async def discovery(self, force: bool = False) -> Any: ...

    def range_for(self, window_s: float) -> str: ...


#: At most this many custom queries are run by one probe (two per preset in practice).
MAX_QUERIES = 8


async def custom_queries(plugin: Probing, window: str) -> list[tuple[str, str]]:
    """(template key, PromQL) for each custom template, filled over the range a refresh
    over ``window`` uses; empty without custom templates (then nothing is asked)."""
    if not any(p.templates for p in plugin.presets):
        return []
    # the scrape interval read from Prometheus sets the range, as at refresh; a failure
    # here is a warning at refresh too, so the queries still run with the default
    with contextlib.suppress(BackendError):
        await plugin.discovery()
    rng = plugin.range_for(plugin.rate_window_s or parse_window(window))
    found = [(key, queries.filled(p, key, rng)) for p in plugin.presets for key in p.templates]
    return list(dict.fromkeys(found))[:MAX_QUERIES]
