"""Number formatting shared by the CLI table and the TUI.

No data is shown as "—", never as 0 or 100%. Rounding never turns 99.996% into "100%"
nor 0.001% into "0%": such values are floored or shown as "<0.01%".
"""

from __future__ import annotations

import math

NO_DATA = "—"


def pct(x: float | None, digits: int = 2) -> str:
    """A fraction as a percentage: 0.97314 → "97.31%"."""
    if x is None or math.isnan(x):
        return NO_DATA
    v = x * 100.0
    text = f"{v:.{digits}f}"
    if x < 1.0 and float(text) >= 100.0:
        return f"{math.floor(v * 10**digits) / 10**digits:.{digits}f}%"
    if x > 0.0 and float(text) == 0.0:
        return f"<{10**-digits:.{digits}f}%"
    return text + "%"


def ms(x: float | None) -> str:
    """Milliseconds: 41 → "41ms", 2340 → "2.34s"."""
    if x is None or math.isnan(x):
        return NO_DATA
    if x >= 10_000:
        return f"{x / 1000:.1f}s"
    if x >= 1000:
        return f"{x / 1000:.2f}s"
    if x >= 100:
        return f"{x:.0f}ms"
    return f"{x:.1f}ms"


def latency(x: float | None, capped: bool = False) -> str:
    """Milliseconds as :func:`ms`, with "≥ " when the value is only a lower bound (the
    quantile fell beyond the histogram's highest finite bucket): "≥ 1.00s"."""
    text = ms(x)
    return f"≥ {text}" if capped and text != NO_DATA else text


def rps(x: float | None) -> str:
    """Requests per second: 12.5 → "12.5/s"; 1234 → "1.2k/s"."""
    if x is None or math.isnan(x):
        return NO_DATA
    if x >= 1000:
        return f"{x / 1000:.1f}k/s"
    if x >= 100:
        return f"{x:.0f}/s"
    if x > 0 and x < 0.1:
        return f"{x:.3f}/s"
    return f"{x:.1f}/s"


def burn(x: float | None) -> str:
    """A burn rate: 26.93 → "26.9×"."""
    if x is None or math.isnan(x):
        return NO_DATA
    return f"{x:.1f}×" if x < 100 else f"{x:.0f}×"


def num(x: float | None, digits: int = 2) -> str:
    if x is None or math.isnan(x):
        return NO_DATA
    return f"{x:,.{digits}f}"


def age(seconds: float | None) -> str:
    """An age: 42 → "42s", 3700 → "1h01m"."""
    if seconds is None:
        return "never"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600}h"


def duration_ns(ns: int) -> str:
    """A span duration for people: 850ns, 12.3µs, 4.56ms, 1.20s."""
    if ns < 1_000:
        return f"{ns}ns"
    if ns < 1_000_000:
        return f"{ns / 1e3:.1f}µs"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.2f}ms"
    return f"{ns / 1e9:.2f}s"


def plain(x: float) -> str:
    """A number without exponent notation: 4.489e-05 → "0.000045", 1234.5 → "1,234.5"."""
    if x != x:
        return "NaN"
    if abs(x) >= 1000:
        return f"{x:,.1f}".rstrip("0").rstrip(".")
    if x == 0 or abs(x) >= 0.001:
        return f"{x:.4f}".rstrip("0").rstrip(".")
    return f"{x:.6f}".rstrip("0").rstrip(".") if abs(x) >= 0.000001 else f"{x:.2e}"
