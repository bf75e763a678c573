"""SLO math against worked numbers: burn rates, the SRE Workbook tiers, the traffic guard
and budget remaining."""

from __future__ import annotations

import math

import pytest

from console.core.model import SLO, Severity, Signals
from console.core.slo import TIERS, burn_rate, error_budget, evaluate, parse_window

SLO_999 = SLO(objective=0.999, window="30d")
PLENTY = {"5m": 1e4, "30m": 1e4, "1h": 1e5, "6h": 1e6, "3d": 1e7, "30d": 1e8}


def _eval(ratios: dict[str, float], requests: dict[str, float] | None = None, **kw: float):
    signals = Signals(error_ratio=ratios, requests=PLENTY if requests is None else requests)
    return evaluate(signals, SLO_999, **kw)


def test_tiers_are_the_workbook_ones() -> None:
    assert [(t.severity, t.factor, t.long_window, t.short_window) for t in TIERS] == [
        (Severity.PAGE, 14.4, "1h", "5m"),
        (Severity.PAGE, 6.0, "6h", "30m"),
        (Severity.TICKET, 1.0, "3d", "6h"),
    ]


def test_burn_rate_worked_numbers() -> None:
    assert burn_rate(0.0144, 0.999) == pytest.approx(14.4)
    assert burn_rate(0.001, 0.999) == pytest.approx(1.0)
    assert burn_rate(0.05, 0.99) == pytest.approx(5.0)
    assert burn_rate(0.0, 0.999) == 0.0
    assert error_budget(0.995) == pytest.approx(0.005)


@pytest.mark.parametrize("objective", [0.0, 1.0, 1.5, -0.1])
def test_objective_outside_0_1_is_rejected(objective: float) -> None:
    with pytest.raises(ValueError, match="objective"):
        burn_rate(0.01, objective)
    with pytest.raises(ValueError, match="objective"):
        evaluate(Signals(), SLO(objective=objective))


def test_fast_burn_on_both_1h_and_5m_pages() -> None:
    b = _eval({"1h": 0.0144001, "5m": 0.0144001})
    assert b.page and not b.ticket
    assert b.rates["1h"] == pytest.approx(14.4001)


def test_fast_burn_on_1h_only_does_not_page() -> None:
    assert not _eval({"1h": 0.0144, "5m": 0.0}).page
    assert not _eval({"1h": 0.05}).page  # short window unknown: never fires


def test_exactly_at_the_factor_does_not_fire() -> None:
    assert not _eval({"1h": 0.0144, "5m": 0.0144}).page


def test_short_window_alone_does_not_page() -> None:
    assert not _eval({"1h": 0.001, "5m": 0.5}).page


def test_slow_burn_6x_on_6h_and_30m_pages() -> None:
    b = _eval({"6h": 0.0061, "30m": 0.0061})
    assert b.page
    assert not _eval({"6h": 0.0061, "30m": 0.0059}).page
    assert not _eval({"6h": 0.0059, "30m": 0.0061}).page


def test_ticket_on_3d_and_6h() -> None:
    b = _eval({"3d": 0.0011, "6h": 0.0011})
    assert b.ticket and not b.page
    assert not _eval({"3d": 0.0011, "6h": 0.0009}).ticket
    assert not _eval({"3d": 0.0009, "6h": 0.0011}).ticket


def test_a_bad_hour_pages_and_tickets() -> None:
    every = dict.fromkeys(("5m", "30m", "1h", "6h", "3d"), 0.02)
    b = _eval(every)
    assert b.page and b.ticket


def test_low_traffic_guard_suppresses_a_tier_and_says_so() -> None:
    requests = {**PLENTY, "1h": 99.0}
    b = _eval({"1h": 0.5, "5m": 0.5}, requests)
    assert not b.page
    assert b.low_traffic
    assert b.rates["1h"] == pytest.approx(500.0)  # the burn is still reported


def test_low_traffic_guard_is_per_tier_on_the_long_window() -> None:
    requests = {**PLENTY, "1h": 50.0}
    b = _eval({"1h": 0.5, "5m": 0.5, "6h": 0.01, "30m": 0.01}, requests)
    assert b.page  # the 6h tier has traffic enough
    assert b.low_traffic


def test_guard_threshold_is_configurable_and_exact() -> None:
    requests = {**PLENTY, "1h": 100.0}
    assert _eval({"1h": 0.5, "5m": 0.5}, requests).page  # 100 is not fewer than 100
    assert not _eval({"1h": 0.5, "5m": 0.5}, requests, min_requests=101).page


def test_unknown_request_counts_do_not_trip_the_guard() -> None:
    b = _eval({"1h": 0.5, "5m": 0.5}, requests={})
    assert b.page and not b.low_traffic


def test_budget_remaining_worked_numbers() -> None:
    assert _eval({"30d": 0.0}).budget_remaining == 1.0
    assert _eval({"30d": 0.0004}).budget_remaining == pytest.approx(0.6)
    assert _eval({"30d": 0.001}).budget_remaining == pytest.approx(0.0)
    # Overspent: negative, not clamped (the UI says "exhausted").
    assert _eval({"30d": 0.003}).budget_remaining == pytest.approx(-2.0)


def test_budget_uses_the_slo_window() -> None:
    signals = Signals(error_ratio={"30d": 0.05, "7d": 0.0025})
    b = evaluate(signals, SLO(objective=0.99, window="7d"))
    assert b.budget_remaining == pytest.approx(0.75)


def test_no_data_is_none_never_a_full_budget() -> None:
    b = evaluate(Signals(), SLO_999)
    assert b.budget_remaining is None
    assert b.rates == {}
    assert not (b.page or b.ticket or b.low_traffic)
    assert _eval({"1h": 0.1, "5m": 0.1}).budget_remaining is None


def test_nan_ratios_are_no_data() -> None:
    b = _eval({"1h": math.nan, "5m": 0.5, "30d": math.nan})
    assert not b.page
    assert "1h" not in b.rates
    assert b.budget_remaining is None


def test_rates_hold_every_known_window() -> None:
    b = _eval({"5m": 0.002, "1h": 0.001, "30d": 0.0005})
    assert b.rates == {
        "5m": pytest.approx(2.0),
        "1h": pytest.approx(1.0),
        "30d": pytest.approx(0.5),
    }


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h", 3600), ("3d", 259200), ("2w", 1209600), ("1.5h", 5400)],
)
def test_parse_window(text: str, seconds: float) -> None:
    assert parse_window(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "5x", "-5m", "0m", "5 m", "1h30m", "5M"])
def test_parse_window_rejects_bad_input(text: str) -> None:
    with pytest.raises(ValueError, match="window"):
        parse_window(text)


def test_parse_window_rejects_non_strings() -> None:
    with pytest.raises(ValueError, match="not a window"):
        parse_window(300)  # type: ignore[arg-type]
