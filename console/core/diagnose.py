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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace

from console.core.model import BurnRates, FailureMode, Finding, Function, Severity, Signals

PAGE, TICKET = Severity.PAGE, Severity.TICKET


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Every diagnosis threshold. Rates and saturation are fractions 0..1.

    Config names a field as ``{mode: {key: number}}``: the field ``f2_throttle_rate`` is
    ``F2: {throttle_rate: ...}`` and ``min_rps`` is ``guard: {min_rps: ...}``.
    """

    #: Traffic guard: all rules but F7 need at least this many requests per second.
    min_rps: float = 0.1
    #: F1 fires at this timeout rate ...
    f1_timeout_rate: float = 0.02
    #: ... or when p99 is this many times the baseline p99 (and at least the SLO's p99).
    f1_p99_factor: float = 3.0
    #: F1 pages at this timeout rate (or when the SLO burn pages); otherwise a ticket.
    f1_page_timeout_rate: float = 0.05
    #: F2 files a ticket at this rate of 429 responses ...
    f2_throttle_rate: float = 0.01
    #: ... and pages at this one.
    f2_page_throttle_rate: float = 0.05
    #: F3 (pages) at this retry rate when traffic is ``f3_rps_factor`` × baseline ...
    f3_retry_rate: float = 0.10
    f3_rps_factor: float = 2.0
    #: ... or at this retry rate alone.
    f3_retry_rate_alone: float = 0.30
    #: F4 (ticket) at this cold-start rate when p99 is ``f4_p99_factor`` × baseline p99
    #: (or there is no baseline p99).
    f4_cold_start_rate: float = 0.05
    f4_p99_factor: float = 2.0
    #: F5 when this fraction of instances is failing (others still succeed) ...
    f5_failing_instances_min: float = 0.05
    f5_failing_instances_max: float = 0.95
    #: ... and at least this 5xx rate. Pages only when the SLO burn pages.
    f5_error_5xx_rate: float = 0.01
    #: F6 files a ticket at this 401/403 rate and pages at the second.
    f6_auth_error_rate: float = 0.02
    f6_page_auth_error_rate: float = 0.10
    #: F7 at this CPU or memory saturation; pages at ``f7_page_memory``.
    f7_cpu: float = 0.90
    f7_memory: float = 0.90
    f7_page_memory: float = 0.97
    #: F7 also when the queue is ``f7_queue_factor`` × baseline and at least ``f7_queue_length``.
    f7_queue_factor: float = 5.0
    f7_queue_length: float = 100.0
    #: F8 files a ticket at this 400/422 rate and pages at the second.
    f8_serialization_error_rate: float = 0.02
    f8_page_serialization_error_rate: float = 0.10
    #: F9 files a ticket when a dependency fails this fraction of calls; pages at the second.
    f9_dependency_error_rate: float = 0.20
    f9_page_dependency_error_rate: float = 0.50
    #: F10 (ticket) when cost per 1k requests is this many times baseline ...
    f10_cost_factor: float = 3.0
    #: ... or traffic is this many times baseline (with a known cost).
    f10_rps_factor: float = 5.0

    @classmethod
    def from_mapping(cls, data: Mapping[str, Mapping[str, float]]) -> Thresholds:
        """Defaults overridden by config like ``{"F2": {"throttle_rate": 0.02}}``.

        Raises:
            ValueError: naming an unknown mode or key (``"F2: unknown key 'x' ..."``), or
                a value that is not a non-negative number (``"F2.throttle_rate: ..."``).
                Messages do not repeat "thresholds": callers add where it came from.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"expected a mapping of mode -> {{key: number}}, got {data!r}")
        changes: dict[str, float] = {}
        for section, keys in data.items():
            name = str(section)
            name = "guard" if name.lower() == "guard" else name.upper()
            table = _CONFIG_KEYS.get(name)
            if table is None:
                raise ValueError(f"unknown failure mode {section!r} (expected guard or F1–F10)")
            if not isinstance(keys, Mapping):
                raise ValueError(f"{name}: expected a mapping of key -> number, got {keys!r}")
            for key, value in keys.items():
                attr = table.get(key)
                if attr is None:
                    raise ValueError(
                        f"{name}: unknown key {key!r} (expected one of: {', '.join(table)})"
                    )
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                if not ok or not math.isfinite(value) or value < 0:
                    raise ValueError(f"{name}.{key}: expected a non-negative number, got {value!r}")
                changes[attr] = float(value)
        result = replace(DEFAULT_THRESHOLDS, **changes)
        if result.f5_failing_instances_min > result.f5_failing_instances_max:
            raise ValueError("F5: failing_instances_min is above failing_instances_max")
        return result

    def as_mapping(self) -> dict[str, dict[str, float]]:
        """Every threshold in config shape (``{"guard": {...}, "F1": {...}, ...}``)."""
        return {
            section: {key: getattr(self, attr) for key, attr in table.items()}
            for section, table in _CONFIG_KEYS.items()
        }


def _config_keys() -> dict[str, dict[str, str]]:
    """Config section -> config key -> Thresholds field, derived from the field names."""
    table: dict[str, dict[str, str]] = {"guard": {}}
    table.update({m.value: {} for m in FailureMode})
    for f in fields(Thresholds):
        mode, _, key = f.name.partition("_")
        if mode.upper() in table and mode[1:].isdigit():
            table[mode.upper()][key] = f.name
        else:
            table["guard"][f.name] = f.name
    return table


_CONFIG_KEYS = _config_keys()
DEFAULT_THRESHOLDS = Thresholds()

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

# --- evidence formatting (only ever called once a rule has fired) --------------------------


def _pct(x: float) -> str:
    v = x * 100.0
    return f"{v:.1f}%" if v >= 0.1 or v == 0 else f"{v:.2g}%"


def _ms(x: float) -> str:
    return f"{x:,.0f} ms"


def _rps(x: float) -> str:
    return f"{x:,.1f} rps"


def _vs(label: str, now: float, base: float, fmt: Callable[[float], str]) -> str:
    """``"p99 2,340 ms is 13.0× baseline 180 ms"``."""
    return f"{label} {fmt(now)} is {now / base:.1f}× baseline {fmt(base)}"


# --- the rules ------------------------------------------------------------------------------
# Each takes (signals, baseline, thresholds, function, burn) and returns None or
# (severity, evidence, values). The traffic guard has run already: rate_rps is a number.

_Hit = tuple[Severity, str, dict[str, float]]
_Base = Signals | None
_Burn = BurnRates | None
_Rule = Callable[[Signals, _Base, Thresholds, Function, _Burn], _Hit | None]


def _f1_timeout(s: Signals, b: _Base, t: Thresholds, fn: Function, burn: _Burn) -> _Hit | None:
    tr = s.timeout_rate
    by_rate = tr is not None and tr >= t.f1_timeout_rate
    p99 = s.p99_ms
    bp = b.p99_ms if b is not None and p99 is not None else None
    slow = False
    if p99 is not None and bp is not None and bp > 0 and p99 >= t.f1_p99_factor * bp:
        limit = fn.slo.latency_p99_ms
        slow = limit is None or p99 >= limit
    if not (by_rate or slow):
        return None
    rps = s.rate_rps or 0.0
    values, parts = {"rate_rps": rps}, []
    if p99 is not None:
        values["p99_ms"] = p99
        if bp is not None and bp > 0:
            values.update(baseline_p99_ms=bp, p99_factor=p99 / bp)
            parts.append(_vs("p99", p99, bp, _ms))
        else:
            parts.append(f"p99 {_ms(p99)}")
    if tr is not None:
        values["timeout_rate"] = tr
        parts.append(f"{_pct(tr)} of {_rps(rps)} time out")
    page = (tr is not None and tr >= t.f1_page_timeout_rate) or (burn is not None and burn.page)
    return (PAGE if page else TICKET), "; ".join(parts), values


def _rate_hit(rate: float, page_at: float, rps: float, key: str, what: str) -> _Hit:
    return (
        PAGE if rate >= page_at else TICKET,
        f"{_pct(rate)} of {_rps(rps)} {what}",
        {key: rate, "rate_rps": rps},
    )


def _f2_throttling(s: Signals, b: _Base, t: Thresholds, fn: Function, burn: _Burn) -> _Hit | None:
    r = s.throttle_rate
    if r is None or not r >= t.f2_throttle_rate:
        return None
    return _rate_hit(
        r, t.f2_page_throttle_rate, s.rate_rps or 0.0, "throttle_rate", "throttled (429)"
    )


def _f3_retry_storm(s: Signals, b: _Base, t: Thresholds, fn: Function, burn: _Burn) -> _Hit | None:
    rr = s.retry_rate
    if rr is None or not rr >= t.f3_retry_rate:
        return None
    rps = s.rate_rps or 0.0
    br = b.rate_rps if b is not None else None
    surge = br is not None and br > 0 and rps >= t.f3_rps_factor * br
    if not surge and rr < t.f3_retry_rate_alone:
        return None
    values = {"retry_rate": rr, "rate_rps": rps}
    evidence = f"retries are {_pct(rr)} of {_rps(rps)}"
    if br is not None and br > 0:
        values.update(baseline_rate_rps=br, rps_factor=rps / br)
        evidence += f"; traffic {rps / br:.1f}× baseline {_rps(br)}"
    return PAGE, evidence, values


def _f4_cold_start(s: Signals, b: _Base, t: Thresholds, fn: Function, burn: _Burn) -> _Hit | None:
    cs = s.cold_start_rate
    if cs is None or not cs >= t.f4_cold_start_rate:
        return None
    p99 = s.p99_ms
    bp = b.p99_ms if b is not None else None
    if bp is not None and bp > 0 and (p99 is None or not p99 >= t.f4_p99_factor * bp):
        return None
    rps = s.rate_rps or 0.0
    values = {"cold_start_rate": cs, "rate_rps": rps}
    evidence = f"{_pct(cs)} of {_rps(rps)} start cold"
    if p99 is not None:
        values["p99_ms"] = p99
        if bp is not None and bp > 0:
            values.update(baseline_p99_ms=bp, p99_factor=p99 / bp)
            evidence += "; " + _vs("p99", p99, bp, _ms)
        else:
            evidence += f"; p99 {_ms(p99)} (no baseline)"
    return TICKET, evidence, values


def _f5_partial(s: Signals, b: _Base, t: Thresholds, fn: Function, burn: _Burn) -> _Hit | None:
    fi = s.failing_instances
    if fi is None or not t.f5_failing_instances_min <= fi <= t.f5_failing_instances_max:
        return None
    e = s.error_5xx_rate
    if e is None or not e >= t.f5_error_5xx_rate:
        return None
    rps = s.rate_rps or 0.0
    return (
        PAGE if burn is not None and burn.page else TICKET,
        f"{_pct(fi)} of instances failing; 5xx on {_pct(e)} of {_rps(rps)}",
        {"failing_instances": fi, "error_5xx_rate": e, "rate_rps": rps},
    )


def _f6_auth(s: Signals, b: _Base, t: Thresholds, fn: Function, burn: _Burn) -> _Hit | None:
    r = s.auth_error_rate
    if r is None or not r >= t.f6_auth_error_rate:
        return None
    return _rate_hit(
        r, t.f6_page_auth_error_rate, s.rate_rps or 0.0, "auth_error_rate", "rejected with 401/403"
    )


def _f7_resources(s: Signals, b: _Base, t: Thresholds, fn: Function, burn: _Burn) -> _Hit | None:
    cpu, mem, q = s.cpu, s.memory, s.queue_length
    hot = (cpu is not None and cpu >= t.f7_cpu) or (mem is not None and mem >= t.f7_memory)
    bq = b.queue_length if b is not None and q is not None and q >= t.f7_queue_length else None
    backlog = bq is not None and q is not None and q >= t.f7_queue_factor * bq
    if not (hot or backlog):
        return None
    values: dict[str, float] = {}
    parts = []
    if cpu is not None:
        values["cpu"] = cpu
        parts.append(f"CPU {_pct(cpu)}")
    if mem is not None:
        values["memory"] = mem
        parts.append(f"memory {_pct(mem)}")
    if backlog and q is not None and bq is not None:
        values.update(queue_length=q, baseline_queue_length=bq)
        fmt = "{:,.0f}".format
        parts.append(_vs("queue", q, bq, fmt) if bq > 0 else f"queue {fmt(q)}, baseline {fmt(bq)}")
    page = mem is not None and mem >= t.f7_page_memory
    return (PAGE if page else TICKET), "; ".join(parts), values


def _f8_serial(s: Signals, b: _Base, t: Thresholds, fn: Function, burn: _Burn) -> _Hit | None:
    r = s.serialization_error_rate
    if r is None or not r >= t.f8_serialization_error_rate:
        return None
    return _rate_hit(
        r,
        t.f8_page_serialization_error_rate,
        s.rate_rps or 0.0,
        "serialization_error_rate",
        "rejected with 400/422",
    )


def _f9_dependency(s: Signals, b: _Base, t: Thresholds, fn: Function, burn: _Burn) -> _Hit | None:
    deps = s.dependency_errors
    if not deps or max(deps.values()) < t.f9_dependency_error_rate:
        return None
    bad = sorted(
        ((r, d) for d, r in deps.items() if r >= t.f9_dependency_error_rate),
        key=lambda x: (-x[0], x[1]),
    )
    if not bad:  # only NaNs above: no data
        return None
    worst = bad[0][0]
    values = {"dependency_error_rate": worst}
    values.update({f"dependency_errors.{d}": r for r, d in bad})
    evidence = f"calls to {bad[0][1]} fail {_pct(worst)}"
    if len(bad) > 1:
        evidence += "; also " + ", ".join(f"{d} {_pct(r)}" for r, d in bad[1:])
    return (PAGE if worst >= t.f9_page_dependency_error_rate else TICKET), evidence, values


def _f10_cost(s: Signals, b: _Base, t: Thresholds, fn: Function, burn: _Burn) -> _Hit | None:
    c = s.cost_per_1k
    if c is None or b is None or c != c:  # c != c: NaN, no data
        return None
    bc, br = b.cost_per_1k, b.rate_rps
    rps = s.rate_rps or 0.0
    pricier = bc is not None and bc > 0 and c >= t.f10_cost_factor * bc
    surge = br is not None and br > 0 and rps >= t.f10_rps_factor * br
    if not (pricier or surge):
        return None
    values, parts = {"cost_per_1k": c, "rate_rps": rps}, []
    fmt = "{:,.3f} per 1k requests".format
    if bc is not None and bc > 0:
        values.update(baseline_cost_per_1k=bc, cost_factor=c / bc)
        parts.append(_vs("cost", c, bc, fmt))
    else:
        parts.append(f"cost {fmt(c)}")
    if br is not None and br > 0:
        values.update(baseline_rate_rps=br, rps_factor=rps / br)
        parts.append(_vs("traffic", rps, br, _rps))
    return TICKET, "; ".join(parts), values


#: The rule table, in mode order.
RULES: tuple[tuple[FailureMode, _Rule], ...] = (
    (FailureMode.F1, _f1_timeout),
    (FailureMode.F2, _f2_throttling),
    (FailureMode.F3, _f3_retry_storm),
    (FailureMode.F4, _f4_cold_start),
    (FailureMode.F5, _f5_partial),
    (FailureMode.F6, _f6_auth),
    (FailureMode.F7, _f7_resources),
    (FailureMode.F8, _f8_serial),
    (FailureMode.F9, _f9_dependency),
    (FailureMode.F10, _f10_cost),
)
_UNGUARDED: tuple[tuple[FailureMode, _Rule], ...] = tuple(
    r for r in RULES if r[0] is FailureMode.F7
)
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
            finding = Finding(function.id, mode, severity, evidence, values, rb)
            if found is None:
                found = [finding]
            else:
                found.append(finding)
    if found is None:
        return ()
    found.sort(key=lambda f: (_RANK[f.severity], _ORDER[f.mode]))
    return tuple(found)
