"""The lines every postmortem renderer shares: the impact table, the incident times and
their milestones, numbers and durations as people read them. Pure, no I/O."""

from __future__ import annotations

from console.core.incident_times import Moment
from console.core.postmortem import Postmortem


def pct(value: float | None, digits: int = 2) -> str:
    """A fraction as a percentage; ``no data`` for None."""
    return "no data" if value is None else f"{value * 100:.{digits}f}%"


def duration(seconds: float | None) -> str:
    """``1h 20m 5s`` (at most three parts); ``no data`` for None."""
    if seconds is None:
        return "no data"
    s = round(seconds)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    parts = [f"{d}d"] * bool(d) + [f"{h}h"] * bool(h) + [f"{m}m"] * bool(m) + [f"{s}s"]
    return " ".join(parts[:3])


def _moment(m: Moment | None, missing: str = "not yet") -> str:
    return missing if m is None else f"{m.at} — {m.what}"


def _since_onset(pm: Postmortem, m: Moment | None, missing: str = "not yet") -> str:
    seconds = pm.times.since_onset(m)
    return missing if seconds is None else duration(seconds)


#: Shown for the detection of an incident on whose functions nothing was ever found.
NO_DETECTION = "no finding or alert recorded"


def impact_lines(pm: Postmortem) -> list[tuple[str, str]]:
    """(label, value) pairs of the impact section: the incident times, then the impact."""
    i, times = pm.impact, pm.times
    peak = pct(i.peak_error_rate)
    if i.peak_error_rate is not None:
        peak += f" on {i.peak_function} at {i.peak_at}"
    budget = "; ".join(
        f"{fid}: {pct(v)} of the SLO budget"
        + (f" (from {pm.impact.budget_method.get(fid)})" if v is not None else "")
        for fid, v in i.budget_burned.items()
    )
    opened = "no data" if times.opened is None else f"{times.opened.at} by {pm.incident.opened_by}"
    return [
        ("Status", pm.incident.status),
        ("Severity", pm.incident.severity),
        ("Onset (UTC)", _moment(times.onset, "no data")),
        ("Detected (UTC)", _moment(times.detected, NO_DETECTION)),
        ("Opened (UTC)", opened),
        ("Mitigated (UTC)", "not yet" if times.mitigated is None else times.mitigated.at),
        ("Resolved (UTC)", "not yet" if times.resolved is None else times.resolved.at),
        ("Duration", duration(i.duration_s) + (" so far" if i.ongoing else "")),
        ("Time to detect (MTTD)", _since_onset(pm, times.detected, NO_DETECTION)),
        ("Time to open (MTTA)", _since_onset(pm, times.opened, "no data")),
        ("Time to mitigate (MTTM)", _since_onset(pm, times.mitigated)),
        ("Time to resolve (MTTR)", _since_onset(pm, times.resolved)),
        ("Functions", ", ".join(i.functions)),
        ("Peak error rate", peak),
        ("Error budget burned", budget or "no data"),
    ]


def times_lines(pm: Postmortem) -> list[str]:
    """Two indented lines for ``incident show``: onset and detection, then the times to each
    step (MTTD, MTTA, MTTM, MTTR), from onset."""
    t = pm.times
    onset = "no data" if t.onset is None else f"{t.onset.at}: {t.onset.what}"
    found = NO_DETECTION if t.detected is None else f"{t.detected.at}: {t.detected.what}"
    return [
        f"  onset {onset}; detected {found}",
        f"  MTTD {_since_onset(pm, t.detected, NO_DETECTION)}, "
        f"MTTA {_since_onset(pm, t.opened, 'no data')}, MTTM {_since_onset(pm, t.mitigated)}, "
        f"MTTR {_since_onset(pm, t.resolved)} (from onset)",
    ]


def milestones(pm: Postmortem) -> list[tuple[str, Moment, str]]:
    """The incident times reached so far, oldest first: (name, moment, one line saying what
    it was and how long after onset). The CSV export writes them as ``milestone`` rows."""
    t = pm.times
    out: list[tuple[str, Moment, str]] = []
    if t.onset is not None:
        out.append(("onset", t.onset, f"Onset: {t.onset.what}; the impact is measured from here"))
    for name, m, metric in (
        ("detected", t.detected, "time to detect (MTTD)"),
        ("opened", t.opened, "time to open (MTTA)"),
        ("mitigated", t.mitigated, "time to mitigate (MTTM)"),
        ("resolved", t.resolved, "time to resolve (MTTR)"),
    ):
        if m is not None:
            text = f"{name.title()}: {m.what}; {metric} {_since_onset(pm, m)}"
            out.append((name, m, text))
    out.sort(key=lambda x: x[1].t)
    return out
