"""Numbers on screen: no data is "—", and rounding never fabricates 0% or 100%."""

from __future__ import annotations

import math

from console.core import fmt


def test_no_data_is_a_dash_never_zero() -> None:
    for f in (fmt.pct, fmt.ms, fmt.rps, fmt.burn, fmt.num):
        assert f(None) == fmt.NO_DATA
        assert f(math.nan) == fmt.NO_DATA


def test_rounding_never_shows_a_perfect_or_empty_percentage() -> None:
    assert fmt.pct(0.99996) == "99.99%"  # not "100.00%"
    assert fmt.pct(1.0) == "100.00%"  # a true 100% is shown as such
    assert fmt.pct(0.00001) == "<0.01%"  # not "0.00%"
    assert fmt.pct(0.0) == "0.00%"
    assert fmt.pct(0.97314) == "97.31%"


def test_units_read_naturally() -> None:
    assert fmt.ms(41) == "41.0ms" and fmt.ms(2340) == "2.34s" and fmt.ms(22700) == "22.7s"
    assert fmt.rps(12.5) == "12.5/s" and fmt.rps(1234) == "1.2k/s" and fmt.rps(0.05) == "0.050/s"
    assert fmt.duration_ns(850) == "850ns" and fmt.duration_ns(5_050_000_000) == "5.05s"
    assert fmt.age(42) == "42s" and fmt.age(3700) == "1h01m" and fmt.age(None) == "never"


def test_plain_numbers_have_no_exponent_for_runbook_output() -> None:
    assert fmt.plain(4.489e-05) == "0.000045"
    assert fmt.plain(0.02) == "0.02"
    assert fmt.plain(5200.0) == "5,200"
    assert fmt.plain(0) == "0"
