"""A finding names the facts a runbook param can be prefilled from (``Finding.facts``)."""

from __future__ import annotations

import dataclasses

from console.core.diagnose import DEFAULT_THRESHOLDS, diagnose
from console.core.model import FailureMode
from tests.core.test_diagnose import BASE, FN, HEALTHY


def test_f9_names_the_worst_failing_dependency() -> None:
    signals = dataclasses.replace(
        HEALTHY, dependency_errors={"ledger": 0.3, "bank-gateway": 0.64, "payments-db": 0.001}
    )
    found = {f.mode: f for f in diagnose(FN, signals, BASE, DEFAULT_THRESHOLDS, None)}
    f9 = found[FailureMode.F9]
    assert f9.evidence.startswith("calls to bank-gateway fail")
    assert f9.facts == {"dependency": "bank-gateway"}


def test_a_tie_names_the_dependency_the_evidence_names() -> None:
    signals = dataclasses.replace(HEALTHY, dependency_errors={"zeta": 0.5, "alpha": 0.5})
    f9 = {f.mode: f for f in diagnose(FN, signals, BASE, DEFAULT_THRESHOLDS, None)}[FailureMode.F9]
    assert f9.evidence.startswith("calls to alpha fail") and f9.facts["dependency"] == "alpha"


def test_other_findings_carry_no_facts() -> None:
    signals = dataclasses.replace(HEALTHY, timeout_rate=0.3)
    found = diagnose(FN, signals, BASE, DEFAULT_THRESHOLDS, None)
    assert found and all(f.facts == {} for f in found if f.mode is not FailureMode.F9)
