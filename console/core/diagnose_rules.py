"""The failure-mode rules of :func:`console.core.diagnose.diagnose`, one per mode F1–F10.

Each rule follows the conventions in :mod:`console.core.diagnose` (missing data never
fires, the traffic guard has already run) and builds its evidence strings only once it
has fired: the engine runs every rule over the whole fleet on each refresh.
"""

from __future__ import annotations

from collections.abc import Callable

from console.core.model import BurnRates, FailureMode, Function, Severity, Signals
from console.core.thresholds import Thresholds

PAGE, TICKET = Severity.PAGE, Severity.TICKET

# --- evidence formatting (only ever called once a rule has fired) --------------------------


def _pct(x: float) -> str:
    v = x * 100.0
    return f"{v:.1f}%" if v >= 0.1 or v == 0 else f"{v:.2g}%"


def _ms(x: float) -> str:
    return f"{x:,.0f} ms"


def _rps(x: float) -> str:
    return f"{x:,.1f} rps"


def _p99(s: Signals) -> str:
    """``"p99 1,000 ms"``, or, when the histogram caps it, ``"p99 ≥ 1,000 ms (...)"``."""
    if "p99_ms" in s.latency_capped and s.p99_ms is not None:
        return f"p99 ≥ {_ms(s.p99_ms)} (beyond the histogram's highest bucket)"
    return f"p99 {_ms(s.p99_ms or 0.0)}"


def _vs(label: str, now: float, base: float, fmt: Callable[[float], str]) -> str:
    """``"p99 2,340 ms is 13.0× baseline 180 ms"``."""
    return f"{label} {fmt(now)} is {now / base:.1f}× baseline {fmt(base)}"


# --- the rules ------------------------------------------------------------------------------
# Each takes (signals, baseline, thresholds, function, burn) and returns None or
# (severity, evidence, values). The traffic guard has run already: rate_rps is a number.

_Hit = tuple[Severity, str, dict[str, float]]
_Base = Signals | None
_Burn = BurnRates | None
#: A rule: (signals, baseline, thresholds, function, burn) -> None or (severity, evidence, values).
Rule = Callable[[Signals, _Base, Thresholds, Function, _Burn], _Hit | None]


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
            cap = "p99_ms" in s.latency_capped
            parts.append(_vs("p99 ≥" if cap else "p99", p99, bp, _ms))
        else:
            parts.append(_p99(s))
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
            evidence += f"; {_p99(s)} (no baseline)"
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


#: The facts a finding's evidence can name, by key (``from: evidence.<key>`` in a runbook
#: param reads them): key → which modes set it and what it is.
EVIDENCE_FACTS: dict[str, str] = {
    "dependency": "F9: the dependency failing the largest share of calls",
}


def facts_of(mode: FailureMode, values: dict[str, float]) -> dict[str, str]:
    """The named facts of a finding (see ``EVIDENCE_FACTS``) from the numbers it carries."""
    if mode is FailureMode.F9:
        prefix = "dependency_errors."
        failing = [(-r, k[len(prefix) :]) for k, r in values.items() if k.startswith(prefix)]
        if failing:
            return {"dependency": min(failing)[1]}  # the worst; ties by name, as the evidence
    return {}


#: The rule table, in mode order.
RULES: tuple[tuple[FailureMode, Rule], ...] = (
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
