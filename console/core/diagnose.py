"""Diagnosis: which of the failure modes F1–F10 a function shows, and the numbers why.

``diagnose`` is a pure function over one function's current ``Signals`` and, optionally, a
*baseline* (its normal behaviour, e.g. a 7-day view). It runs a table of rules, one per
failure mode; each rule that fires yields a ``Finding`` whose ``evidence`` is a short
sentence with the numbers and whose ``values`` carries the same numbers.

Conventions every rule follows:

- Missing data never fires a rule: a ``None`` (or NaN) field, or a baseline that is ``None`` or lacks
  the field, makes the condition that needs it false. A baseline of 0 (p99, rps, cost) cannot
  be compared against and counts as missing.
- Traffic guard: every rule except F7 (resource exhaustion) judges per-request behaviour, so
  it needs ``rate_rps >= min_rps`` (unknown traffic does not pass). F7 is exempt because a
  saturated or backed-up function with no traffic (a stuck consumer) is still an outage.
- Severity: each rule picks ``page`` or ``ticket`` as documented on its threshold fields.
  When ``burn.page`` is set but no rule fires, there is no finding: the burn rate is shown
  on its own, and diagnosis only names failure modes it has evidence for.
- Findings are sorted by severity (page first), then by mode number (F2 before F10).
- A finding's runbooks are the function's own ``runbooks`` that the map lists for the mode,
  else the map's ids for the mode. The map is ``DEFAULT_RUNBOOKS``, or the ``runbooks``
  argument, which replaces it whole (a mode it leaves out has no runbooks).

Speed matters: the engine diagnoses the whole fleet every refresh, so each rule checks its
cheapest field first and builds strings only when it fires.

The rules are in :mod:`console.core.diagnose_rules` and ``Thresholds`` in
:mod:`console.core.thresholds`; both are re-exported here, the one import path for callers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from console.core.diagnose_rules import PAGE, RULES, TICKET, Rule, facts_of
from console.core.model import BurnRates, FailureMode, Finding, Function, Severity, Signals
from console.core.thresholds import DEFAULT_THRESHOLDS, Thresholds

__all__ = [
    "DEFAULT_RUNBOOKS",
    "DEFAULT_THRESHOLDS",
    "PAGE",
    "RULES",
    "TICKET",
    "Thresholds",
    "diagnose",
]

#: Failure mode -> the shipped runbooks that answer it.
DEFAULT_RUNBOOKS: dict[FailureMode, tuple[str, ...]] = {
    FailureMode.F1: ("rollback-bad-deploy",),
    FailureMode.F2: ("throttle-caller",),
    FailureMode.F3: ("retry-storm-throttle",),
    FailureMode.F4: ("cold-start-scale-up",),
    FailureMode.F5: ("partial-failure-drain",),
    FailureMode.F6: ("auth-rollback-secret",),
    FailureMode.F7: ("resource-scale-out",),
    FailureMode.F8: ("serialization-rollback",),
    FailureMode.F9: ("dependency-circuit-open",),
    FailureMode.F10: ("cost-runaway-throttle",),
}

_UNGUARDED: tuple[tuple[FailureMode, Rule], ...] = tuple(r for r in RULES if r[0] is FailureMode.F7)
_ORDER = {m: i for i, m in enumerate(FailureMode)}
_RANK = {sev: sev.rank for sev in Severity}


def _runbooks_for(
    function: Function, mode: FailureMode, table: Mapping[FailureMode, Sequence[str]]
) -> tuple[str, ...]:
    ids = table.get(mode, ())
    own = tuple(r for r in function.runbooks if r in ids)
    return own or tuple(ids)


def diagnose(
    function: Function,
    signals: Signals,
    baseline: Signals | None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    burn: BurnRates | None = None,
    runbooks: Mapping[FailureMode, Sequence[str]] | None = None,
) -> tuple[Finding, ...]:
    """The failure modes ``function`` shows now, most severe first (``()`` when healthy).

    Args:
        function: the function (its SLO latency objective and runbooks are used).
        signals: its current measurements.
        baseline: its normal behaviour (e.g. a 7-day view), or None; rules that need it
            then do not fire.
        thresholds: see ``Thresholds``.
        burn: the SLO burn state from ``console.core.slo.evaluate``; ``burn.page`` raises
            F1 and F5 to a page.
        runbooks: failure mode -> runbook ids, replacing ``DEFAULT_RUNBOOKS``.
    """
    rps = signals.rate_rps
    rules = RULES if rps is not None and rps >= thresholds.min_rps else _UNGUARDED
    found: list[Finding] | None = None
    for mode, rule in rules:
        hit = rule(signals, baseline, thresholds, function, burn)
        if hit is not None:
            severity, evidence, values = hit
            rb = _runbooks_for(function, mode, DEFAULT_RUNBOOKS if runbooks is None else runbooks)
            facts = facts_of(mode, values)
            finding = Finding(function.id, mode, severity, evidence, values, rb, facts)
            if found is None:
                found = [finding]
            else:
                found.append(finding)
    if found is None:
        return ()
    found.sort(key=lambda f: (_RANK[f.severity], _ORDER[f.mode]))
    return tuple(found)
