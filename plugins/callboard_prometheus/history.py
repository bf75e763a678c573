"""PromQL for the history of one signal of one function (``query_range``). Pure."""

from __future__ import annotations

from . import queries
from .queries import Preset

#: Signal name -> what to chart: a request rate, an error share, or a quantile.
SERIES: dict[str, str | float] = {
    "rate_rps": "rate",
    "success_rate": "success",
    "error_rate": "errors",
    "error_5xx_rate": "5xx",
    "throttle_rate": "429",
    "auth_error_rate": "auth",
    "p50_ms": 0.5,
    "p95_ms": 0.95,
    "p99_ms": 0.99,
}
#: Status-code matchers per error share ("5xx" also matches a grouped class).
_CODE_RE = {"errors": "5..|5xx|504|408", "5xx": "5..|5xx", "429": "429", "auth": "401|403"}


def _sum(p: Preset, window: str, extra: str) -> str:
    roles = [r for r in ("service", "route", "method") if p.labels.get(r)]
    return queries.counted(p, p.requests, extra, window, queries.group_by(p), roles)


def series_one(p: Preset, ident: dict[str, str], what: str | float, window: str) -> str | None:
    """One convention's PromQL for one signal of the function whose labels are ``ident``."""
    narrow = queries.narrow(p, ident)
    if isinstance(what, float):
        q = queries.latency(p, window, what, extra=narrow, seconds=True)
        return None if q is None else f"{queries.only(q, p, ident)} * 1000"
    if not p.requests:
        return None
    total = queries.only(_sum(p, window, narrow), p, ident)
    if what == "rate":
        return total
    codes = p.labels.get("code", ())
    if not codes:
        return None
    code_re = _CODE_RE["errors" if what == "success" else what]
    part = _sum(p, window, f'{narrow}, {codes[0]}=~"{code_re}"'.lstrip(", "))
    ratio = f"({queries.only(part, p, ident)} or {total} * 0) / {total}"
    return f"1 - {ratio}" if what == "success" else ratio
