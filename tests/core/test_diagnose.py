"""diagnose(): every rule firing and not firing at its threshold, severities, evidence with
the numbers, runbooks, ordering and threshold configuration."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from console.core.diagnose import DEFAULT_RUNBOOKS, DEFAULT_THRESHOLDS, RULES, Thresholds, diagnose
from console.core.model import SLO, BurnRates, FailureMode, Finding, Function, Severity, Signals

F = FailureMode
PAGE, TICKET = Severity.PAGE, Severity.TICKET

FN = Function(id="checkout:POST /pay", service="checkout", operation="POST /pay")
HEALTHY = Signals(
    rate_rps=40.0,
    success_rate=0.998,
    p50_ms=40.0,
    p95_ms=120.0,
    p99_ms=200.0,
    error_5xx_rate=0.001,
    timeout_rate=0.001,
    throttle_rate=0.0,
    auth_error_rate=0.0,
    serialization_error_rate=0.0,
    retry_rate=0.01,
    cold_start_rate=0.0,
    cpu=0.40,
    memory=0.50,
    queue_length=10.0,
    cost_per_1k=0.25,
    failing_instances=0.0,
    dependency_errors={"payments-db": 0.001, "ledger": 0.0},
)
BASE = Signals(rate_rps=40.0, p99_ms=180.0, queue_length=10.0, cost_per_1k=0.25)
BURN_PAGE = BurnRates(rates={"1h": 20.0, "5m": 20.0}, budget_remaining=0.5, page=True)


def run(
    base: Signals | None = BASE,
    fn: Function = FN,
    burn: BurnRates | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    **changes: Any,
) -> dict[FailureMode, Finding]:
    found = diagnose(fn, dataclasses.replace(HEALTHY, **changes), base, thresholds, burn)
    by_mode = {f.mode: f for f in found}
    assert len(by_mode) == len(found)
    return by_mode


def test_healthy_function_has_no_findings() -> None:
    assert diagnose(FN, HEALTHY, BASE, DEFAULT_THRESHOLDS) == ()
    assert diagnose(FN, HEALTHY, None, DEFAULT_THRESHOLDS) == ()
    assert diagnose(FN, Signals(), None, DEFAULT_THRESHOLDS) == ()


def test_burn_page_alone_is_not_a_finding() -> None:
    assert diagnose(FN, HEALTHY, BASE, DEFAULT_THRESHOLDS, BURN_PAGE) == ()


def test_the_rule_table_has_one_rule_per_mode() -> None:
    assert [mode for mode, _ in RULES] == list(FailureMode)
    assert set(DEFAULT_RUNBOOKS) == set(FailureMode)


# (mode, signal changes, expected severity or None for "does not fire")
CASES: list[tuple[FailureMode, dict[str, Any], Severity | None]] = [
    # F1 Timeout
    (F.F1, {"timeout_rate": 0.02}, TICKET),
    (F.F1, {"timeout_rate": 0.0199}, None),
    (F.F1, {"timeout_rate": 0.0499}, TICKET),
    (F.F1, {"timeout_rate": 0.05}, PAGE),
    (F.F1, {"timeout_rate": None}, None),
    (F.F1, {"p99_ms": 540.0}, TICKET),  # 3.0 × 180
    (F.F1, {"p99_ms": 539.0}, None),
    (F.F1, {"p99_ms": None, "timeout_rate": 0.01}, None),
    # F2 Throttling
    (F.F2, {"throttle_rate": 0.01}, TICKET),
    (F.F2, {"throttle_rate": 0.0099}, None),
    (F.F2, {"throttle_rate": 0.0499}, TICKET),
    (F.F2, {"throttle_rate": 0.05}, PAGE),
    (F.F2, {"throttle_rate": None}, None),
    # F3 Retry storm
    (F.F3, {"retry_rate": 0.10, "rate_rps": 80.0}, PAGE),  # 2.0 × 40
    (F.F3, {"retry_rate": 0.10, "rate_rps": 79.9}, None),
    (F.F3, {"retry_rate": 0.0999, "rate_rps": 400.0}, None),
    (F.F3, {"retry_rate": 0.30}, PAGE),
    (F.F3, {"retry_rate": 0.2999}, None),
    (F.F3, {"retry_rate": None, "rate_rps": 400.0}, None),
    # F4 Cold start
    (F.F4, {"cold_start_rate": 0.05, "p99_ms": 360.0}, TICKET),  # 2.0 × 180
    (F.F4, {"cold_start_rate": 0.05, "p99_ms": 359.0}, None),
    (F.F4, {"cold_start_rate": 0.0499, "p99_ms": 400.0}, None),
    (F.F4, {"cold_start_rate": 0.20, "p99_ms": None}, None),
    (F.F4, {"cold_start_rate": None, "p99_ms": 400.0}, None),
    # F5 Partial failure
    (F.F5, {"failing_instances": 0.05, "error_5xx_rate": 0.01}, TICKET),
    (F.F5, {"failing_instances": 0.95, "error_5xx_rate": 0.01}, TICKET),
    (F.F5, {"failing_instances": 0.0499, "error_5xx_rate": 0.2}, None),
    (F.F5, {"failing_instances": 0.9501, "error_5xx_rate": 0.2}, None),
    (F.F5, {"failing_instances": 0.25, "error_5xx_rate": 0.0099}, None),
    (F.F5, {"failing_instances": 0.25, "error_5xx_rate": None}, None),
    (F.F5, {"failing_instances": None, "error_5xx_rate": 0.2}, None),
    # F6 Authentication error
    (F.F6, {"auth_error_rate": 0.02}, TICKET),
    (F.F6, {"auth_error_rate": 0.0199}, None),
    (F.F6, {"auth_error_rate": 0.0999}, TICKET),
    (F.F6, {"auth_error_rate": 0.10}, PAGE),
    (F.F6, {"auth_error_rate": None}, None),
    # F7 Resource exhaustion
    (F.F7, {"cpu": 0.90}, TICKET),
    (F.F7, {"cpu": 0.8999}, None),
    (F.F7, {"memory": 0.90}, TICKET),
    (F.F7, {"memory": 0.8999}, None),
    (F.F7, {"memory": 0.9699}, TICKET),
    (F.F7, {"memory": 0.97}, PAGE),
    (F.F7, {"cpu": 0.99, "memory": 0.5}, TICKET),
    (F.F7, {"queue_length": 100.0}, TICKET),  # ≥ 5 × 10 and ≥ 100
    (F.F7, {"queue_length": 99.0}, None),  # ≥ 5 × 10 but under 100
    (F.F7, {"cpu": None, "memory": None, "queue_length": None}, None),
    # F8 Serialization error
    (F.F8, {"serialization_error_rate": 0.02}, TICKET),
    (F.F8, {"serialization_error_rate": 0.0199}, None),
    (F.F8, {"serialization_error_rate": 0.0999}, TICKET),
    (F.F8, {"serialization_error_rate": 0.10}, PAGE),
    (F.F8, {"serialization_error_rate": None}, None),
    # F9 Dependency outage
    (F.F9, {"dependency_errors": {"payments-db": 0.20}}, TICKET),
    (F.F9, {"dependency_errors": {"payments-db": 0.1999}}, None),
    (F.F9, {"dependency_errors": {"payments-db": 0.4999}}, TICKET),
    (F.F9, {"dependency_errors": {"payments-db": 0.50}}, PAGE),
    (F.F9, {"dependency_errors": {}}, None),
    # F10 Cost runaway
    (F.F10, {"cost_per_1k": 0.75}, TICKET),  # 3.0 × 0.25
    (F.F10, {"cost_per_1k": 0.7499}, None),
    (F.F10, {"rate_rps": 200.0}, TICKET),  # 5.0 × 40
    (F.F10, {"rate_rps": 199.9}, None),
    (F.F10, {"rate_rps": 200.0, "cost_per_1k": None}, None),
]


@pytest.mark.parametrize(("mode", "changes", "severity"), CASES)
def test_rule_fires_at_its_threshold(
    mode: FailureMode, changes: dict[str, Any], severity: Severity | None
) -> None:
    found = run(**changes)
    if severity is None:
        assert mode not in found
    else:
        assert mode in found, f"{mode} should fire on {changes}"
        assert found[mode].severity == severity
        assert found[mode].function_id == FN.id
        assert found[mode].evidence
        assert found[mode].values


# --- missing baseline, SLO latency, burn ----------------------------------------------------


def test_rules_that_need_a_baseline_do_not_fire_without_one() -> None:
    assert F.F1 not in run(base=None, p99_ms=5000.0)
    assert F.F3 not in run(base=None, retry_rate=0.2, rate_rps=400.0)
    assert F.F7 not in run(base=None, queue_length=100_000.0)
    assert F.F10 not in run(base=None, cost_per_1k=100.0, rate_rps=4000.0)
    assert F.F10 not in run(base=Signals(), cost_per_1k=100.0, rate_rps=4000.0)


def test_rules_with_a_baseline_free_path_still_fire_without_one() -> None:
    assert F.F1 in run(base=None, timeout_rate=0.03)
    assert F.F3 in run(base=None, retry_rate=0.30)
    assert F.F4 in run(base=None, cold_start_rate=0.05)
    assert F.F4 in run(base=Signals(rate_rps=40.0), cold_start_rate=0.05, p99_ms=None)


def test_zero_baseline_is_not_compared_against() -> None:
    zero = Signals(rate_rps=0.0, p99_ms=0.0, cost_per_1k=0.0, queue_length=0.0)
    assert F.F1 not in run(base=zero, p99_ms=5000.0)
    assert F.F3 not in run(base=zero, retry_rate=0.2)
    assert F.F10 not in run(base=zero, cost_per_1k=5.0)
    # A queue that is normally empty and now holds 500 is a backlog.
    assert F.F7 in run(base=zero, queue_length=500.0)


def test_f1_latency_needs_to_break_the_slo_latency_objective_when_set() -> None:
    strict = dataclasses.replace(FN, slo=SLO(latency_p99_ms=500.0))
    lax = dataclasses.replace(FN, slo=SLO(latency_p99_ms=600.0))
    assert F.F1 in run(fn=strict, p99_ms=540.0)
    assert F.F1 not in run(fn=lax, p99_ms=540.0)
    assert F.F1 in run(fn=lax, p99_ms=600.0)


def test_burn_page_raises_f1_and_f5_to_page() -> None:
    assert run(burn=BURN_PAGE, timeout_rate=0.02)[F.F1].severity == PAGE
    assert run(burn=BURN_PAGE, p99_ms=900.0)[F.F1].severity == PAGE
    partial: dict[str, Any] = {"failing_instances": 0.3, "error_5xx_rate": 0.05}
    assert run(burn=BURN_PAGE, **partial)[F.F5].severity == PAGE
    assert run(burn=dataclasses.replace(BURN_PAGE, page=False), **partial)[F.F5].severity == TICKET
    # ... but not rules whose severity the burn does not decide.
    assert run(burn=BURN_PAGE, cold_start_rate=0.1, p99_ms=400.0)[F.F4].severity == TICKET


# --- the traffic guard ----------------------------------------------------------------------

EVERYTHING_WRONG: dict[str, Any] = {
    "timeout_rate": 0.5,
    "throttle_rate": 0.5,
    "retry_rate": 0.5,
    "cold_start_rate": 0.5,
    "p99_ms": 2000.0,
    "failing_instances": 0.5,
    "error_5xx_rate": 0.5,
    "auth_error_rate": 0.5,
    "serialization_error_rate": 0.5,
    "cpu": 0.99,
    "cost_per_1k": 10.0,
    "dependency_errors": {"payments-db": 0.9},
}


def test_everything_wrong_fires_every_mode() -> None:
    assert set(run(**EVERYTHING_WRONG)) == set(FailureMode)


@pytest.mark.parametrize("rps", [0.0999, 0.0, None])
def test_traffic_guard_leaves_only_resource_exhaustion(rps: float | None) -> None:
    assert set(run(**{**EVERYTHING_WRONG, "rate_rps": rps})) == {F.F7}


def test_traffic_guard_boundary_and_config() -> None:
    assert F.F2 in run(rate_rps=0.1, throttle_rate=0.5)
    strict = Thresholds.from_mapping({"guard": {"min_rps": 1}})
    assert F.F2 not in run(thresholds=strict, rate_rps=0.5, throttle_rate=0.5)
    assert F.F2 in run(thresholds=strict, rate_rps=1.0, throttle_rate=0.5)


# --- evidence -------------------------------------------------------------------------------


def test_f1_evidence_reads_like_a_sentence_with_the_numbers() -> None:
    f = run(rate_rps=42.0, p99_ms=2340.0, timeout_rate=0.061)[F.F1]
    assert f.evidence == "p99 2,340 ms is 13.0× baseline 180 ms; 6.1% of 42.0 rps time out"
    assert f.values["p99_ms"] == 2340.0
    assert f.values["baseline_p99_ms"] == 180.0
    assert f.values["p99_factor"] == pytest.approx(13.0)
    assert f.values["timeout_rate"] == 0.061
    assert f.values["rate_rps"] == 42.0
    assert f.name == "Timeout"


@pytest.mark.parametrize(
    ("mode", "changes", "expected"),
    [
        (F.F2, {"throttle_rate": 0.018}, ["1.8%", "40.0 rps", "429"]),
        (F.F3, {"retry_rate": 0.18, "rate_rps": 96.0}, ["18.0%", "96.0 rps", "2.4×", "40.0 rps"]),
        (F.F4, {"cold_start_rate": 0.12, "p99_ms": 720.0}, ["12.0%", "720 ms", "4.0×", "180 ms"]),
        (F.F5, {"failing_instances": 0.25, "error_5xx_rate": 0.032}, ["25.0%", "3.2%"]),
        (F.F6, {"auth_error_rate": 0.12}, ["12.0%", "401/403"]),
        (F.F7, {"memory": 0.98}, ["memory 98.0%", "CPU 40.0%"]),
        (F.F7, {"queue_length": 1200.0}, ["queue 1,200", "120.0×", "baseline 10"]),
        (F.F8, {"serialization_error_rate": 0.04}, ["4.0%", "400/422"]),
        (F.F10, {"cost_per_1k": 1.05}, ["1.050", "4.2×", "0.250"]),
        (F.F10, {"rate_rps": 240.0}, ["240.0 rps", "6.0×", "40.0 rps"]),
    ],
)
def test_evidence_contains_the_numbers(
    mode: FailureMode, changes: dict[str, Any], expected: list[str]
) -> None:
    evidence = run(**changes)[mode].evidence
    for text in expected:
        assert text in evidence, f"{text!r} missing from {evidence!r}"


def test_f9_evidence_names_the_dependencies_worst_first() -> None:
    f = run(dependency_errors={"ledger": 0.25, "payments-db": 0.62, "cache": 0.01})[F.F9]
    assert f.severity == PAGE
    assert f.evidence == "calls to payments-db fail 62.0%; also ledger 25.0%"
    assert f.values == {
        "dependency_error_rate": 0.62,
        "dependency_errors.payments-db": 0.62,
        "dependency_errors.ledger": 0.25,
    }


def test_small_percentages_do_not_print_as_zero() -> None:
    evidence = run(p99_ms=900.0, timeout_rate=0.0004)[F.F1].evidence
    assert "0.04%" in evidence


# --- ordering and runbooks ------------------------------------------------------------------


def test_findings_sorted_by_severity_then_mode() -> None:
    found = diagnose(
        FN,
        dataclasses.replace(
            HEALTHY,
            timeout_rate=0.03,  # F1 ticket
            throttle_rate=0.2,  # F2 page
            retry_rate=0.4,  # F3 page
            cost_per_1k=1.0,  # F10 ticket
        ),
        BASE,
        DEFAULT_THRESHOLDS,
    )
    assert [(f.mode, f.severity) for f in found] == [
        (F.F2, PAGE),
        (F.F3, PAGE),
        (F.F1, TICKET),
        (F.F10, TICKET),
    ]


def test_default_runbooks_are_exact() -> None:
    assert {m.value: ids for m, ids in DEFAULT_RUNBOOKS.items()} == {
        "F1": ("rollback-bad-deploy",),
        "F2": ("throttle-caller",),
        "F3": ("retry-storm-throttle",),
        "F4": ("cold-start-scale-up",),
        "F5": ("partial-failure-drain",),
        "F6": ("auth-rollback-secret",),
        "F7": ("resource-scale-out",),
        "F8": ("serialization-rollback",),
        "F9": ("dependency-circuit-open",),
        "F10": ("cost-runaway-throttle",),
    }
    assert run(throttle_rate=0.2)[F.F2].runbooks == ("throttle-caller",)


def test_runbooks_prefer_the_functions_own_that_match() -> None:
    table = {F.F1: ("rollback-bad-deploy", "checkout-timeouts"), F.F2: ("throttle-caller",)}
    fn = dataclasses.replace(FN, runbooks=("unrelated", "checkout-timeouts"))
    s = dataclasses.replace(HEALTHY, timeout_rate=0.05, throttle_rate=0.05, cpu=0.95)
    found = {f.mode: f for f in diagnose(fn, s, BASE, DEFAULT_THRESHOLDS, runbooks=table)}
    assert found[F.F1].runbooks == ("checkout-timeouts",)
    assert found[F.F2].runbooks == ("throttle-caller",)
    assert found[F.F7].runbooks == ()  # the override map replaces the defaults whole


# --- Thresholds -----------------------------------------------------------------------------


def test_default_thresholds_are_the_agreed_ones() -> None:
    assert DEFAULT_THRESHOLDS.as_mapping() == {
        "guard": {"min_rps": 0.1},
        "F1": {"timeout_rate": 0.02, "p99_factor": 3.0, "page_timeout_rate": 0.05},
        "F2": {"throttle_rate": 0.01, "page_throttle_rate": 0.05},
        "F3": {"retry_rate": 0.10, "rps_factor": 2.0, "retry_rate_alone": 0.30},
        "F4": {"cold_start_rate": 0.05, "p99_factor": 2.0},
        "F5": {
            "failing_instances_min": 0.05,
            "failing_instances_max": 0.95,
            "error_5xx_rate": 0.01,
        },
        "F6": {"auth_error_rate": 0.02, "page_auth_error_rate": 0.10},
        "F7": {
            "cpu": 0.90,
            "memory": 0.90,
            "page_memory": 0.97,
            "queue_factor": 5.0,
            "queue_length": 100.0,
        },
        "F8": {"serialization_error_rate": 0.02, "page_serialization_error_rate": 0.10},
        "F9": {"dependency_error_rate": 0.20, "page_dependency_error_rate": 0.50},
        "F10": {"cost_factor": 3.0, "rps_factor": 5.0},
    }


def test_from_mapping_overrides_only_what_it_names() -> None:
    t = Thresholds.from_mapping({"F2": {"throttle_rate": 0.02}, "guard": {"min_rps": 1}})
    assert t.f2_throttle_rate == 0.02
    assert t.min_rps == 1.0
    assert t.f2_page_throttle_rate == DEFAULT_THRESHOLDS.f2_page_throttle_rate
    assert Thresholds.from_mapping({}) == DEFAULT_THRESHOLDS
    assert Thresholds.from_mapping(DEFAULT_THRESHOLDS.as_mapping()) == DEFAULT_THRESHOLDS
    assert Thresholds.from_mapping({"f10": {"cost_factor": 4}}).f10_cost_factor == 4.0
    assert F.F2 not in run(thresholds=t, throttle_rate=0.015)
    assert F.F2 in run(throttle_rate=0.015)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"F11": {"x": 1}}, "unknown failure mode 'F11'"),
        ({"timeouts": {"x": 1}}, "unknown failure mode 'timeouts'"),
        ({"F2": {"throttle": 0.1}}, r"^F2: unknown key 'throttle'.*throttle_rate"),
        ({"guard": {"max_rps": 1}}, r"^guard: unknown key 'max_rps'"),
        ({"F2": {"throttle_rate": "high"}}, r"^F2\.throttle_rate.*'high'"),
        ({"F2": {"throttle_rate": None}}, r"^F2\.throttle_rate.*None"),
        ({"F2": {"throttle_rate": True}}, r"^F2\.throttle_rate.*True"),
        ({"F2": {"throttle_rate": -0.1}}, r"^F2\.throttle_rate.*-0\.1"),
        ({"F2": {"throttle_rate": math.nan}}, r"^F2\.throttle_rate.*nan"),
        ({"F2": 0.1}, r"^F2: expected a mapping"),
        ([("F2", {})], "expected a mapping"),
        ({"F5": {"failing_instances_min": 0.9, "failing_instances_max": 0.5}}, "F5"),
    ],
)
def test_from_mapping_errors_name_the_problem(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Thresholds.from_mapping(data)


def test_nan_measurements_never_fire() -> None:
    nan = math.nan
    assert run(dependency_errors={"payments-db": nan}) == {}
    assert run(timeout_rate=nan, throttle_rate=nan, cpu=nan, cost_per_1k=nan) == {}
    assert run(retry_rate=nan, cold_start_rate=nan, auth_error_rate=nan, p99_ms=nan) == {}
    assert run(failing_instances=nan, error_5xx_rate=0.5, serialization_error_rate=nan) == {}
    assert run(failing_instances=0.5, error_5xx_rate=nan, memory=nan, queue_length=nan) == {}
    assert run(cold_start_rate=0.5, p99_ms=nan) == {}
    assert run(cost_per_1k=nan, rate_rps=4000.0) == {}
