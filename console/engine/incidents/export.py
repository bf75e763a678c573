"""Export an incident as a postmortem: Markdown draft, complete JSON, CSV or one HTML page.

The events of an incident are its own plus every event of a runbook run linked to it (by
the event, or by the run's ``incident_id``). Every format is redacted on the way out as
well as on the way in: a secret known to this process never reaches the output.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable
from typing import Any

from console.core.gcpause import gc_paused
from console.core.incident_times import DEFAULT_ONSET_WINDOW_S
from console.core.inert import csv_cell, md_code, md_text, utf8_inert
from console.core.postmortem import Postmortem, Row, build_postmortem
from console.core.postmortem_lines import impact_lines, milestones
from console.core.redact import redact
from console.engine.incidents.export_html import render_html
from console.engine.incidents.export_secrets import SecretSource, prime_redactor
from console.engine.incidents.lifecycle import get_incident
from console.engine.incidents.roles import names as responder_names
from console.engine.store.base import StoreLike as Store
from console.engine.store.events import COLUMNS, Event, row_events, utc_now

FORMATS = ("md", "json", "csv", "html")


def _read_events(store: Store, where: str, args: tuple[Any, ...]) -> list[Event]:
    return row_events(
        store.tuples(f"SELECT {COLUMNS} FROM events WHERE {where} ORDER BY seq", args)
    )


def incident_events(store: Store, incident_id: str) -> list[Event]:
    """The incident's events plus those of its runbook runs, in chain order."""
    with gc_paused():
        return _incident_events(store, incident_id)


def _incident_events(store: Store, incident_id: str) -> list[Event]:
    events = _read_events(store, "incident_id = ?", (incident_id,))
    runs = {e.run_id for e in events if e.run_id}
    runs |= {
        r["id"] for r in store.query("SELECT id FROM runs WHERE incident_id = ?", (incident_id,))
    }
    extra: list[Event] = []
    for run in sorted(runs):  # a run's events written without the incident id
        extra += _read_events(
            store, "run_id = ? AND (incident_id IS NULL OR incident_id <> ?)", (run, incident_id)
        )
    if extra:
        events = sorted({e.seq: e for e in (*events, *extra)}.values(), key=lambda e: e.seq)
    return events


def postmortem(
    store: Store,
    incident_id: str,
    *,
    now: str | None = None,
    with_signals: bool = True,
    onset_window_s: float = DEFAULT_ONSET_WINDOW_S,
) -> Postmortem:
    """Build the postmortem of one incident from the store (see ``build_postmortem``)."""
    inc = get_incident(store, incident_id)
    events = incident_events(store, inc.id)
    names = responder_names(store)
    with gc_paused():
        return build_postmortem(
            inc,
            events,
            now=now or utc_now(),
            with_signals=with_signals,
            onset_window_s=onset_window_s,
            names=names,
        )


def export_incident(
    store: Store,
    incident_id: str,
    fmt: str,
    *,
    now: str | None = None,
    onset_window_s: float = DEFAULT_ONSET_WINDOW_S,
    secrets: SecretSource | None = None,
    referenced: Iterable[str] = (),
) -> str:
    """The incident rendered in ``fmt`` (one of FORMATS), redacted.

    Every secret ``secrets`` knows (this install's keyring and environment when None) and
    the ``referenced`` names are resolved first (see :func:`prime_redactor`), so a raw
    secret in an event never reaches the output, whoever calls this.
    """
    if fmt not in RENDERERS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    prime_redactor(secrets, referenced)
    with gc_paused():
        pm = postmortem(
            store, incident_id, now=now, with_signals=fmt != "json", onset_window_s=onset_window_s
        )
        return redact(RENDERERS[fmt](pm))


def export_bytes(
    store: Store,
    incident_id: str,
    fmt: str,
    *,
    now: str | None = None,
    onset_window_s: float = DEFAULT_ONSET_WINDOW_S,
    secrets: SecretSource | None = None,
    referenced: Iterable[str] = (),
) -> bytes:
    """The export as written to a file or standard output: UTF-8, redacted (as
    :func:`export_incident`), inert (JSON with control characters as ``\\u`` escapes, see
    :func:`console.core.inert.utf8_inert`)."""
    text = export_incident(store, incident_id, fmt, now=now, onset_window_s=onset_window_s,
                           secrets=secrets, referenced=referenced)  # fmt: skip
    return utf8_inert(text, json=fmt == "json")


def event_json(e: Any, row: Any | None = None) -> dict[str, Any]:
    """One event as JSON (data with secret-looking values masked)."""
    out = {
        "seq": e.seq, "id": e.id, "at": e.at, "kind": e.kind, "actor": e.actor,
        "incident_id": e.incident_id, "run_id": e.run_id, "function_id": e.function_id,
        "data": row.data if row is not None else e.data,
        "prev_hash": getattr(e, "prev_hash", None), "hash": getattr(e, "hash", None),
    }  # fmt: skip
    if row is not None:
        out["summary"] = row.summary
        out["outcome"] = row.outcome
    return out


# -- renderers ----------------------------------------------------------------------------


def render_md(pm: Postmortem) -> str:
    """A postmortem draft in Markdown; every value from data is inert text (see
    :mod:`console.core.inert`)."""
    c = md_text
    inc = pm.incident
    out = [f"# Postmortem: {c(inc.id)} — {c(inc.title)}", "",
           "_Draft generated by Callboard. All times are UTC._", "", "## Summary", "",
           c(pm.summary), "", "## Impact", "", "| | |", "|---|---|"]  # fmt: skip
    out += [f"| {k} | {c(v)} |" for k, v in impact_lines(pm)]
    out += _team_md(pm)
    out += ["", "## Timeline (UTC)", "",
            "| Time (UTC) | Kind | Actor | Function | What happened | Signals |",
            "|---|---|---|---|---|---|"]  # fmt: skip
    out += [
        f"| {c(r.event.at)} | {c(r.event.kind)} | {c(r.event.actor)} | {c(r.event.function_id or '')}"
        f" | {c(r.summary)} | {c(r.signals)} |"
        for r in pm.timeline
    ]
    out += ["", "## Actions taken", ""]
    if pm.actions:
        out += [
            "| Time (UTC) | Action | Function | Params | Outcome | Verify |",
            "|---|---|---|---|---|---|",
        ]
        for a in pm.actions:
            params = ", ".join(f"{k}={v}" for k, v in a.params.items())
            outcome = a.outcome.upper() if a.outcome == "outcome unknown" else a.outcome
            if a.message:
                outcome += f": {a.message}"
            out.append(f"| {c(a.at)} | {c(a.action)} | {c(a.function_id or '')} | "
                       f"{c(params)} | {c(outcome)} | {c('; '.join(a.verify) or 'none')} |")  # fmt: skip
    else:
        out.append("No actions were recorded.")
    out += ["", "## Linked traces", ""]
    out += [f"- {md_code(tid)} ({c(at)}): {c(what)}" for tid, at, what in pm.traces] or [
        "None recorded."
    ]
    out += ["", "## Follow-ups", ""] + [f"- [ ] {c(f)}" for f in pm.followups]
    out.append("")  # the final newline, without copying the whole text once more
    return "\n".join(out)


def _team_md(pm: Postmortem) -> list[str]:
    if not pm.team.worth_showing:
        return []
    c = md_text
    out = ["", "## Responders", "", "| Responder | Roles | Events | First seen (UTC) |",
           "|---|---|---|---|"]  # fmt: skip
    out += [
        f"| {c(r.label())} | {c(', '.join(r.roles) or '—')} | {r.events} | {c(r.first_at or '—')} |"
        for r in pm.team.responders
    ]
    return out


_encode = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":")).encode
_encode_str: Callable[[str], str] = json.encoder.encode_basestring  # what dumps uses for a str


def _js(value: object) -> str:
    """``_encode(value)`` for the scalar fields of an event, faster for str and None."""
    if value is None:
        return "null"
    if type(value) is str:
        return _encode_str(value)
    return str(value) if type(value) is int else _encode(value)


def _event_text(r: Row) -> str:
    """``"," + _encode(event_json(r.event, r))``, reusing the stored data text where unmasked."""
    e = r.event
    raw = getattr(e, "raw", None)
    data = raw if raw is not None and r.data is e.data else _encode(r.data)
    s, j = _encode_str, _js
    try:  # the NOT NULL text columns are str: encode them directly
        return (
            f',{{"seq":{e.seq:d},"id":{s(e.id)},"at":{s(e.at)},"kind":{s(e.kind)},'
            f'"actor":{s(e.actor)},"incident_id":{j(e.incident_id)},"run_id":{j(e.run_id)},'
            f'"function_id":{j(e.function_id)},"data":{data},'
            f'"prev_hash":{s(e.prev_hash)},"hash":{s(e.hash)},'  # type: ignore[attr-defined]
            f'"summary":{s(r.summary)},"outcome":{j(r.outcome)}}}'
        )
    except (AttributeError, TypeError, ValueError):  # anything unusual: the generic way
        return "," + _encode(event_json(e, r))


def render_json(pm: Postmortem) -> str:
    """``{"incident", "events", "impact"}`` plus summary, actions, traces, follow-ups.

    Compact JSON, encoded piece by piece (the events one by one) and joined once: the same
    bytes as one ``json.dumps`` of the whole document, without its 80 MB intermediate copies.
    """
    doc: dict[str, Any] = {
        "incident": pm.incident.to_json(),
        "events": None,  # spliced in below
        "impact": pm.impact.to_json(),
        "times": pm.times.to_json(),
        "summary": pm.summary,
        "actions": [
            {
                "at": a.at,
                "action": a.action,
                "function_id": a.function_id,
                "run_id": a.run_id,
                "step": a.step,
                "params": dict(a.params),
                "outcome": a.outcome,
                "message": a.message,
                "result_at": a.result_at,
                "verify": list(a.verify),
                "mark": a.mark.lower() or None,  # "refused", "undo" or null
            }
            for a in pm.actions
        ],
        "traces": [{"trace_id": t, "at": at, "context": what} for t, at, what in pm.traces],
        "followups": list(pm.followups),
    }
    if pm.team.worth_showing:
        doc["team"] = pm.team.to_json()
    pieces: list[str] = []
    for k, v in doc.items():
        pieces.append(("," if pieces else "{") + _encode(k) + ":")
        if k == "events":
            events = [_event_text(r) for r in pm.timeline]
            if events:
                events[0] = events[0][1:]  # no comma before the first
            pieces += ["[", *events, "]"]
        else:
            pieces.append(_encode(v))
    pieces.append("}\n")
    return "".join(pieces)


CSV_COLUMNS = ("at", "seq", "kind", "actor", "function_id", "run_id", "summary", "outcome",
               "signals", "data", "id")  # fmt: skip


def render_csv(pm: Postmortem) -> str:
    """The timeline, one row per event sorted by UTC time, with a ``milestone`` row (no id)
    at each incident time reached: onset, detected, opened, mitigated, resolved."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str).encode
    marks = milestones(pm)
    x = csv_cell

    def flush(before: float) -> None:
        while marks and marks[0][1].t < before:
            name, m, text = marks.pop(0)
            data = {"milestone": name, "since_onset_s": pm.times.since_onset(m)}
            w.writerow((m.at, "", "milestone", "", "", "", csv_cell(text), "", "", dumps(data), ""))

    for r in pm.timeline:
        e = r.event
        if marks:
            flush(r.t if r.t is not None else math.inf)
        w.writerow((x(e.at), e.seq, x(e.kind), x(e.actor), x(e.function_id or ""),
                    x(e.run_id or ""), x(r.summary), x(r.outcome or ""), x(r.signals),
                    x(dumps(r.data)), x(e.id)))  # fmt: skip
    flush(math.inf)
    return buf.getvalue()


RENDERERS: dict[str, Callable[[Postmortem], str]] = {
    "md": render_md,
    "json": render_json,
    "csv": render_csv,
    "html": render_html,
}
