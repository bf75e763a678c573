"""The HTML postmortem: one self-contained page (inline CSS and SVG, no script, no links out).

Every value from data is escaped and stripped of control bytes (:mod:`console.core.inert`).

The chart plots the error rate each affected function had at every recorded moment over
the incident window, with every action marked by a labelled vertical line (its outcome in
the tooltip) and status changes by a dotted one.
"""

from __future__ import annotations

from console.core.inert import html_text
from console.core.postmortem import Postmortem
from console.core.postmortem_lines import impact_lines
from console.core.timeline import OUTCOME_UNKNOWN, epoch

W, H = 900, 320
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 20, 60
COLORS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
MAX_POINTS = 2000  # per line: a 100,000-event incident still gives a light page

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}
td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4} .unknown{background:#fff3cd;font-weight:bold}
.failed{background:#f8d7da} code{font-size:12px} svg{background:#fff;border:1px solid #ddd}
"""


#: Every value from data goes through this: escaped, without control bytes.
_e = html_text


def _thin(points: tuple[tuple[float, float], ...]) -> tuple[tuple[float, float], ...]:
    """At most MAX_POINTS per line, keeping each bucket's peak (spikes stay visible)."""
    if len(points) <= MAX_POINTS:
        return points
    size = -(-len(points) // MAX_POINTS)
    return tuple(max(points[i : i + size], key=lambda p: p[1]) for i in range(0, len(points), size))


def chart_svg(pm: Postmortem) -> str:
    """The error-rate chart with every action marked (inline SVG)."""
    times = [t for pts in pm.series.values() for t, _ in pts]
    times += [a.t for a in pm.actions if a.t is not None]
    for at in (pm.impact.start, pm.impact.end):
        t = epoch(at) if at else None
        if t is not None:
            times.append(t)
    if not times:
        return "<p>No signals or actions were recorded: nothing to chart.</p>"
    t0, t1 = min(times), max(times)
    span = (t1 - t0) or 1.0
    peak = max((v for pts in pm.series.values() for _, v in pts), default=0.0)
    ymax = max(peak * 1.1, 0.01)
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(t: float) -> float:
        return round(LEFT + (t - t0) / span * pw, 1)

    def y(v: float) -> float:
        return round(TOP + ph - min(v, ymax) / ymax * ph, 1)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'viewBox="0 0 {W} {H}" role="img" aria-label="error rate over the incident">',
           f'<line x1="{LEFT}" y1="{TOP + ph}" x2="{LEFT + pw}" y2="{TOP + ph}" stroke="#888"/>',
           f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + ph}" stroke="#888"/>']  # fmt: skip
    for frac in (0.0, 0.5, 1.0):
        v = ymax * frac
        out.append(f'<text x="{LEFT - 4}" y="{y(v) + 4}" font-size="10" text-anchor="end">'
                   f"{v * 100:.1f}%</text>")  # fmt: skip
    for t, anchor in ((t0, "start"), (t1, "end")):
        label = _e(_utc(t))
        out.append(
            f'<text x="{x(t)}" y="{H - 38}" font-size="10" text-anchor="{anchor}">{label}</text>'
        )
    if not pm.series:
        out.append(f'<text x="{LEFT + pw / 2}" y="{TOP + ph / 2}" text-anchor="middle" '
                   'fill="#888">no error-rate data recorded</text>')  # fmt: skip
    for i, (fid, pts) in enumerate(sorted(pm.series.items())):
        color = COLORS[i % len(COLORS)]
        coords = " ".join(f"{x(t)},{y(v)}" for t, v in _thin(pts))
        out.append(f'<polyline class="series" data-function="{_e(fid)}" fill="none" '
                   f'stroke="{color}" stroke-width="1.5" points="{coords}"><title>{_e(fid)} '
                   "error rate</title></polyline>")  # fmt: skip
        out.append(f'<text x="{LEFT + 8 + 220 * (i % 4)}" y="{H - 8 - 14 * (i // 4)}" '
                   f'font-size="11" fill="{color}">■ {_e(fid)}</text>')  # fmt: skip
    for r in pm.timeline:
        if r.event.kind == "status.changed" and r.t is not None:
            to = _e(r.data.get("to", ""))
            out.append(f'<line class="status-mark" x1="{x(r.t)}" y1="{TOP}" x2="{x(r.t)}" '
                       f'y2="{TOP + ph}" stroke="#2ca02c" stroke-dasharray="2,3">'
                       f"<title>{_e(r.event.at)} status → {to}</title></line>")  # fmt: skip
    for n, a in enumerate(pm.actions, 1):
        if a.t is None:
            continue
        color = "#b8860b" if a.outcome == OUTCOME_UNKNOWN else "#000"
        tip = _e(f"{a.at} {a.action} on {a.function_id or '?'}: {a.outcome}")
        out.append(f'<g class="action-mark" data-action="{_e(a.action)}" data-at="{_e(a.at)}">'
                   f'<line x1="{x(a.t)}" y1="{TOP}" x2="{x(a.t)}" y2="{TOP + ph}" stroke="{color}" '
                   f'stroke-dasharray="5,3"/><text x="{x(a.t) + 3}" y="{TOP + 10 + 12 * (n % 4)}" '
                   f'font-size="10" fill="{color}">{n} {_e(a.action)}</text><title>{tip}</title></g>')  # fmt: skip
    out.append("</svg>")
    return "\n".join(out)


def _utc(t: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def render_html(pm: Postmortem) -> str:
    """The whole postmortem as one self-contained HTML page."""
    inc = pm.incident
    p = [f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Postmortem '
         f"{_e(inc.id)}</title><style>{CSS}</style></head><body>",
         f"<h1>Postmortem: {_e(inc.id)} — {_e(inc.title)}</h1>",
         "<p><em>Draft generated by Callboard. All times are UTC.</em></p>",
         f"<h2>Summary</h2><p>{_e(pm.summary)}</p><h2>Impact</h2><table>"]  # fmt: skip
    p += [f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in impact_lines(pm)]
    p += ["</table><h2>Error rate and actions</h2>", chart_svg(pm), "<h2>Actions taken</h2>"]
    if pm.actions:
        p.append("<table><tr><th>#</th><th>Time (UTC)</th><th>Action</th><th>Function</th>"
                 "<th>Params</th><th>Outcome</th><th>Verify</th></tr>")  # fmt: skip
        for n, a in enumerate(pm.actions, 1):
            cls = {OUTCOME_UNKNOWN: ' class="unknown"', "failed": ' class="failed"'}.get(
                a.outcome, ""
            )
            params = ", ".join(f"{k}={v}" for k, v in a.params.items())
            msg = f": {a.message}" if a.message else ""
            p.append(f"<tr{cls}><td>{n}</td><td>{_e(a.at)}</td><td>{_e(a.action)}</td>"
                     f"<td>{_e(a.function_id or '')}</td><td>{_e(params)}</td>"
                     f"<td>{_e(a.outcome + msg)}</td><td>{_e('; '.join(a.verify) or 'none')}</td></tr>")  # fmt: skip
        p.append("</table>")
    else:
        p.append("<p>No actions were recorded.</p>")
    if pm.team.worth_showing:
        p.append("<h2>Responders</h2><table><tr><th>Responder</th><th>Roles</th><th>Events</th>"
                 "<th>First seen (UTC)</th></tr>")  # fmt: skip
        p += [f"<tr><td>{_e(r.label())}</td><td>{_e(', '.join(r.roles) or '—')}</td>"
              f"<td>{r.events}</td><td>{_e(r.first_at or '—')}</td></tr>"
              for r in pm.team.responders]  # fmt: skip
        p.append("</table>")
    p.append("<h2>Timeline (UTC)</h2><table><tr><th>Time (UTC)</th><th>Kind</th><th>Actor</th>"
             "<th>Function</th><th>What happened</th><th>Signals</th></tr>")  # fmt: skip
    for r in pm.timeline:
        e = r.event
        cls = ' class="unknown"' if r.outcome == OUTCOME_UNKNOWN else ""
        p.append(f'<tr{cls} id="ev-{e.seq}"><td>{_e(e.at)}</td><td>{_e(e.kind)}</td>'
                 f"<td>{_e(e.actor)}</td><td>{_e(e.function_id or '')}</td><td>{_e(r.summary)}</td>"
                 f"<td>{_e(r.signals)}</td></tr>")  # fmt: skip
    p.append("</table><h2>Linked traces</h2>")
    p.append("<ul>" + "".join(f"<li><code>{_e(t)}</code> ({_e(at)}): {_e(w)}</li>"
                              for t, at, w in pm.traces) + "</ul>" if pm.traces else "<p>None recorded.</p>")  # fmt: skip
    p.append("<h2>Follow-ups</h2><ul>" + "".join(f"<li>☐ {_e(f)}</li>" for f in pm.followups))
    p.append("</ul></body></html>")
    return "\n".join(p) + "\n"
