"""Success-rate classification: each status code's class, and success rates that never
invent a number."""

from __future__ import annotations

import math

import pytest

from console.core.classify import (
    CLASS_FIELDS,
    DEFAULT_COUNTED,
    class_rates,
    status_class,
    success_rate,
    validate_counted,
)
from console.core.model import Signals


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (100, "ok"),
        (101, "ok"),
        (200, "ok"),
        (204, "ok"),
        (301, "ok"),
        (304, "ok"),
        (399, "ok"),
        (400, "serialization"),
        (422, "serialization"),
        (401, "auth"),
        (403, "auth"),
        (429, "throttle"),
        (404, "client"),
        (409, "client"),
        (418, "client"),
        (408, "timeout"),
        (504, "timeout"),
        (None, "timeout"),
        (500, "5xx"),
        (502, "5xx"),
        (503, "5xx"),
        (599, "5xx"),
    ],
)
def test_status_class_of_each_code(code: int | None, expected: str) -> None:
    assert status_class(code) == expected


@pytest.mark.parametrize("code", [0, 99, 600, -1, True])
def test_status_class_rejects_non_http_codes(code: int) -> None:
    with pytest.raises(ValueError, match="not an HTTP status code"):
        status_class(code)


def test_only_5xx_and_timeouts_count_by_default() -> None:
    assert set(DEFAULT_COUNTED) == {"5xx", "timeout"}
    assert CLASS_FIELDS["throttle"] == "throttle_rate"
    assert CLASS_FIELDS["auth"] == "auth_error_rate"
    assert CLASS_FIELDS["serialization"] == "serialization_error_rate"
    for field in CLASS_FIELDS.values():
        assert hasattr(Signals(), field)


def test_success_rate_subtracts_counted_classes_only() -> None:
    s = Signals(
        rate_rps=10.0,
        error_5xx_rate=0.02,
        timeout_rate=0.01,
        throttle_rate=0.30,
        auth_error_rate=0.10,
        serialization_error_rate=0.05,
    )
    assert success_rate(s) == pytest.approx(0.97)
    assert success_rate(s, frozenset({"5xx", "timeout", "throttle"})) == pytest.approx(0.67)
    every = frozenset(CLASS_FIELDS)
    assert success_rate(s, every) == pytest.approx(0.52)


@pytest.mark.parametrize("rps", [None, 0.0])
def test_no_traffic_is_no_success_rate(rps: float | None) -> None:
    assert success_rate(Signals(rate_rps=rps, error_5xx_rate=0.0, timeout_rate=0.0)) is None


def test_unknown_counted_rates_give_none_not_100_percent() -> None:
    s = Signals(rate_rps=5.0, throttle_rate=0.2)  # 5xx and timeout both unknown
    assert success_rate(s) is None


def test_nan_rates_are_unknown() -> None:
    assert success_rate(Signals(rate_rps=5.0, error_5xx_rate=math.nan)) is None
    assert success_rate(Signals(rate_rps=5.0, error_5xx_rate=math.nan, timeout_rate=0.01)) == 0.99


def test_one_known_counted_class_is_enough_and_the_other_counts_as_zero() -> None:
    assert success_rate(Signals(rate_rps=5.0, error_5xx_rate=0.04)) == pytest.approx(0.96)
    assert success_rate(Signals(rate_rps=5.0, timeout_rate=0.0)) == 1.0


def test_inconsistent_inputs_never_go_below_zero() -> None:
    assert success_rate(Signals(rate_rps=1.0, error_5xx_rate=0.8, timeout_rate=0.5)) == 0.0


def test_success_rate_rejects_unknown_class() -> None:
    with pytest.raises(ValueError, match="'bogus'"):
        success_rate(Signals(rate_rps=1.0), frozenset({"bogus"}))


def test_validate_counted() -> None:
    assert validate_counted(["5xx", "throttle"]) == {"5xx", "throttle"}
    assert validate_counted("timeout") == {"timeout"}
    with pytest.raises(ValueError, match=r"unknown response class '4xx'.*5xx"):
        validate_counted(["5xx", "4xx"])
    with pytest.raises(ValueError, match="'client' cannot count"):
        validate_counted(["client"])
    with pytest.raises(ValueError, match="'ok' cannot count"):
        validate_counted(["ok"])


def test_class_rates_from_status_counts() -> None:
    rates = class_rates({200: 900, 404: 20, 429: 30, 401: 10, 400: 5, 500: 15, 504: 10, None: 10})
    assert rates == {
        "error_5xx_rate": pytest.approx(0.015),
        "timeout_rate": pytest.approx(0.02),
        "throttle_rate": pytest.approx(0.03),
        "auth_error_rate": pytest.approx(0.01),
        "serialization_error_rate": pytest.approx(0.005),
    }
    assert class_rates({200: 10})["error_5xx_rate"] == 0.0


def test_class_rates_with_no_responses_is_empty() -> None:
    assert class_rates({}) == {}
    assert class_rates({200: 0}) == {}
    with pytest.raises(ValueError, match="negative"):
        class_rates({200: -1})


def test_grouped_status_labels_are_classes_not_codes() -> None:
    """prometheus-fastapi-instrumentator's "4xx" is not a 400 (a serialization error)."""
    from console.core.classify import GROUPED_HIDES, grouped_class

    assert grouped_class("4xx") == "client" and grouped_class(" 5XX ") == "5xx"
    assert grouped_class("2xx") == "ok" and grouped_class("400") is None
    assert {"auth", "throttle", "serialization", "timeout"} == GROUPED_HIDES["4xx"]
    assert GROUPED_HIDES["5xx"] == {"timeout"}  # a 504 hides in a grouped 5xx
