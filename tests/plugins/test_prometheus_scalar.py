"""The Prometheus ``Query`` capability's reading of an instant query: one number or a typed error."""

from __future__ import annotations

from typing import Any

import pytest
from callboard_prometheus.scalar import value_of

from console.errors import BadResponse


def vector(*values: str) -> dict[str, Any]:
    result = [{"metric": {"i": str(i)}, "value": [1.0, v]} for i, v in enumerate(values)]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def test_one_series_or_a_scalar_is_its_number() -> None:
    assert value_of(vector("0.25")) == 0.25
    scalar = {"status": "success", "data": {"resultType": "scalar", "result": [1.0, "3"]}}
    assert value_of(scalar) == 3.0


@pytest.mark.parametrize("raw", ["NaN", "+Inf", "-Inf"])
def test_a_non_finite_value_is_no_data_not_a_number(raw: str) -> None:
    assert value_of(vector(raw)) is None


def test_no_series_is_no_data() -> None:
    assert value_of(vector()) is None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (vector("1", "2"), "returned 2 series, expected one number"),
        ({"status": "error", "errorType": "bad_data", "error": "parse error"}, "parse error"),
        ({"status": "success", "data": {"resultType": "string", "result": [1, "x"]}}, "string"),
        ({"status": "success", "data": {"resultType": "matrix", "result": []}}, "matrix"),
        ([1, 2, 3], "not an API envelope"),
        (vector("twelve"), "not a number: 'twelve'"),
        ({"status": "success", "data": {"resultType": "vector", "result": [{"value": 7}]}},
         "not [time, value]"),
        ({"status": "success", "data": {"resultType": "scalar", "result": [1.0]}},
         "not [time, value]"),
    ],
)  # fmt: skip
def test_a_hostile_answer_is_a_typed_error(payload: Any, message: str) -> None:
    with pytest.raises(BadResponse, match=message.replace("[", r"\[").replace("(", r"\(")):
        value_of(payload)
