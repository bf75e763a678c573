"""SLO math: error budget, burn rates and the SRE Workbook multi-window alerting tiers.

The *burn rate* of a window is how fast the error budget is being spent there:
``error_ratio / (1 − objective)``. A burn rate of 1 spends exactly the budget over the SLO
window; 14.4 spends 2% of a 30-day budget in one hour.

Alerting follows the Google SRE Workbook (chapter 5, "multiwindow, multi-burn-rate alerts"):

=========  ======  ===========  ============
severity   factor  long window  short window
=========  ======  ===========  ============
page       14.4×   1h           5m
page       6×      6h           30m
ticket     1×      3d           6h
=========  ======  ===========  ============

A tier fires only when BOTH of its windows burn faster than the factor, i.e. the error ratio
of each window is strictly greater than ``factor × (1 − objective)``: the long window proves
the problem is significant, the short one that it is still happening. A window with no data
never fires.

Minimum-traffic guard: when the long window's request count is known and below
``min_requests``, the tier does not fire (a handful of failures among a handful of requests
is noise) and the result says ``low_traffic=True``.

Budget remaining is ``1 − error_ratio[slo.window] / (1 − objective)``: 1.0 is an untouched
budget, 0 is spent. It is **not clamped**: a negative value means the budget is overspent by
that fraction, and the UI shows it as "exhausted". It is ``None`` when the SLO window's error
ratio is unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from console.core.durations import UNIT_SECONDS
from console.core.model import SLO, BurnRates, Severity, Signals


@dataclass(frozen=True, slots=True)
class BurnTier:
    """One alerting tier: fire ``severity`` when both windows burn faster than ``factor``."""

    severity: Severity
    factor: float
    long_window: str
    short_window: str


#: The SRE Workbook tiers, most urgent first.
TIERS: tuple[BurnTier, ...] = (
    BurnTier(Severity.PAGE, 14.4, "1h", "5m"),
    BurnTier(Severity.PAGE, 6.0, "6h", "30m"),
    BurnTier(Severity.TICKET, 1.0, "3d", "6h"),
)

_WINDOW_RE = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_window(s: str) -> float:
    """Seconds in a window written like ``"30s"``, ``"5m"``, ``"1h"``, ``"3d"`` or ``"2w"``.

    Raises:
        ValueError: if ``s`` is not a positive number followed by one of s, m, h, d, w.
    """
    m = _WINDOW_RE.fullmatch(s.strip()) if isinstance(s, str) else None
    if m is None:
        raise ValueError(
            f"not a window: {s!r} (expected a number and a unit s, m, h, d or w, e.g. '5m')"
        )
    seconds = float(m.group(1)) * UNIT_SECONDS[m.group(2)]
    if seconds <= 0:
        raise ValueError(f"a window must be longer than zero: {s!r}")
    return seconds


def error_budget(objective: float) -> float:
    """The error budget as a fraction of requests: ``1 − objective``.

    Raises:
        ValueError: if ``objective`` is not strictly between 0 and 1.
    """
    if not 0.0 < objective < 1.0:
        raise ValueError(f"an SLO objective must be between 0 and 1 (exclusive), got {objective!r}")
    return 1.0 - objective


def burn_rate(error_ratio: float, objective: float) -> float:
    """How many times faster than sustainable the budget burns: ``error_ratio / (1 − objective)``.

    Raises:
        ValueError: if ``objective`` is not strictly between 0 and 1.
    """
    return error_ratio / error_budget(objective)


# The tiers unpacked once, for the per-function loop.
_TIER_ROWS = tuple(
    (t.factor, t.long_window, t.short_window, t.severity is Severity.PAGE) for t in TIERS
)


class _BurnMap(Mapping[str, float]):
    """Burn rate per window, computed on access from the error ratios (cheap to build: a
    refresh makes one per function, and most are never read)."""

    __slots__ = ("_budget", "_ratios")

    def __init__(self, ratios: Mapping[str, float], budget: float) -> None:
        self._ratios = ratios
        self._budget = budget

    def __getitem__(self, window: str) -> float:
        r = self._ratios[window]
        if r is None or r != r:  # None and NaN are no data
            raise KeyError(window)
        return r / self._budget

    def __iter__(self) -> Iterator[str]:
        return (w for w, r in self._ratios.items() if r is not None and r == r)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return repr(dict(self))


def evaluate(signals: Signals, slo: SLO, *, min_requests: float = 100.0) -> BurnRates:
    """Burn rates, budget remaining and which tiers fire for one function.

    Uses ``signals.error_ratio`` (window -> fraction of requests that failed) and
    ``signals.requests`` (window -> request count, for the minimum-traffic guard).
    ``BurnRates.rates`` holds the burn rate of every window whose error ratio is known. See
    the module docstring for the rules.

    Raises:
        ValueError: if ``slo.objective`` is not strictly between 0 and 1.
    """
    objective = slo.objective
    if not 0.0 < objective < 1.0:
        error_budget(objective)  # raises with the message
    budget = 1.0 - objective
    ratios = signals.error_ratio
    requests = signals.requests

    page = ticket = low_traffic = False
    for factor, long_w, short_w, pages in _TIER_ROWS:
        if requests:
            count = requests.get(long_w)
            if count is not None and count < min_requests:
                low_traffic = True
                continue
        long_r = ratios.get(long_w)
        short_r = ratios.get(short_w)
        # None and NaN (the one value not equal to itself) are no data: never fire.
        if long_r is None or short_r is None or long_r != long_r or short_r != short_r:
            continue
        limit = factor * budget
        if long_r > limit and short_r > limit:
            if pages:
                page = True
            else:
                ticket = True

    window_r = ratios.get(slo.window)
    return BurnRates(
        rates=_BurnMap(ratios, budget),
        budget_remaining=None
        if window_r is None or window_r != window_r
        else 1.0 - window_r / budget,
        page=page,
        ticket=ticket,
        low_traffic=low_traffic,
    )
