"""The recorder: each fleet refresh becomes timeline events on every active incident.

Findings appearing and clearing, alerts firing and resolving, deploys seen, and — when
nothing else happened for a while — a ``signals.sampled`` event. Every event carries the key
signals of the incident's functions at that moment (the postmortem chart is drawn from
them). What was already recorded is kept in the store, one settings row per incident.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from console.core import events as ev
from console.core.snapshot import FleetSnapshot, FunctionHealth
from console.engine.store.base import Conn
from console.engine.store.base import StoreLike as Store
from console.engine.store.events import Event, EventLog, NewEvent

#: Statuses whose timeline the recorder still writes.
ACTIVE = ("open", "mitigated")
#: How often (seconds) an unchanged incident still gets a ``signals.sampled`` event.
SAMPLE_EVERY_S = 60.0

#: The signals each timeline event carries, per affected function.
KEY_SIGNALS = (
    "success_rate",
    "p99_ms",
    "rate_rps",
    "error_5xx_rate",
    "timeout_rate",
    "throttle_rate",
    "auth_error_rate",
    "serialization_error_rate",
)


def _health_signals(h: FunctionHealth) -> dict[str, Any]:
    s = h.signals
    out: dict[str, Any] = {name: getattr(s, name) for name in KEY_SIGNALS}
    out["error_rate"] = None if s.success_rate is None else round(1.0 - s.success_rate, 6)
    out["budget_remaining"] = h.burn.budget_remaining if h.burn else None
    out["objective"] = h.function.slo.objective
    out["slo_window"] = h.function.slo.window
    return out


def snapshot_signals(snapshot: FleetSnapshot, function_ids: Sequence[str]) -> dict[str, Any]:
    """``{function id: {signal: value}}`` for the given functions (None: not in the snapshot)."""
    by_id = snapshot.by_id()
    return {fid: _health_signals(by_id[fid]) if fid in by_id else None for fid in function_ids}


def iso_ms(text: str) -> str:
    """An ISO 8601 time as UTC with milliseconds and a Z (unparseable text is kept as is)."""
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return text
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def state_key(incident_id: str) -> str:
    return f"recorder:{incident_id}"


def _epoch(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except (TypeError, ValueError):
        return None


def record_snapshot(
    store: Store,
    snapshot: FleetSnapshot,
    previous: FleetSnapshot | None = None,
    *,
    log: EventLog | None = None,
    sample_every_s: float = SAMPLE_EVERY_S,
) -> list[Event]:
    """Record what changed on every active incident's functions since the last recording.

    What was already recorded is kept in the store (one settings row per incident), so a TUI
    loop and CLI commands in other processes never record one change twice; ``previous`` is
    accepted for callers that hold it and is not needed. A function missing from the
    snapshot (its backend failed) changes nothing: no data is not "cleared".

    Returns: the events written, in order.
    """
    del previous  # the stored state is the baseline (see above)
    log = log or EventLog(store)
    incidents = [
        (r["id"], tuple(json.loads(r["functions"] or "[]")))
        for r in store.query("SELECT id, functions FROM incidents WHERE status IN (?, ?)", ACTIVE)
    ]
    if not incidents:
        return []
    # Millisecond precision, so recorded changes sort correctly among the run's events.
    at = (
        iso_ms(datetime.fromtimestamp(snapshot.taken_at, UTC).isoformat())
        if snapshot.taken_at is not None
        else iso_ms(snapshot.generated_at)
    )
    now = _epoch(at)
    by_id = snapshot.by_id()
    written: list[Event] = []
    with store.transaction() as conn:
        for iid, fns in incidents:
            new, state = _diff(conn, iid, fns, snapshot, by_id, at, now, sample_every_s)
            if new:
                written += log.write(conn, new)
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (state_key(iid), json.dumps(state)),
            )
    return written


def _diff(
    conn: Conn,
    incident_id: str,
    functions: tuple[str, ...],
    snapshot: FleetSnapshot,
    by_id: dict[str, FunctionHealth],
    at: str,
    now: float | None,
    sample_every_s: float,
) -> tuple[list[NewEvent], dict[str, Any]]:
    row = conn.execute(
        "SELECT value FROM settings WHERE key = ?", (state_key(incident_id),)
    ).fetchone()
    old: dict[str, Any] = json.loads(row[0]) if row else {}
    findings: dict[str, Any] = dict(old.get("findings", {}))
    alerts: dict[str, Any] = dict(old.get("alerts", {}))
    deploys: list[str] = list(old.get("deploys", []))
    signals = snapshot_signals(snapshot, functions)
    out: list[NewEvent] = []

    def add(new: NewEvent, fid: str, when: str = at) -> None:
        out.append(new.on(incident_id=incident_id, function_id=fid, at=when))

    for fid in functions:
        h = by_id.get(fid)
        if h is None:
            continue
        cur = {f"{fid}|{f.mode.value}": f for f in h.findings}
        for key, f in cur.items():
            if key not in findings:
                findings[key] = {"mode": f.mode.value, "name": f.name}
                mode, sev = f.mode.value, f.severity.value
                add(ev.finding_appeared(mode, f.name, sev, f.evidence, f.values, f.runbooks,
                                        signals=signals), fid)  # fmt: skip
        for key in [k for k in findings if k.startswith(f"{fid}|") and k not in cur]:
            gone = findings.pop(key)
            add(ev.finding_cleared(gone["mode"], gone["name"], signals=signals), fid)
        firing = {
            f"{fid}|{a.name}|{json.dumps(dict(a.labels), sort_keys=True)}": a
            for a in h.alerts
            if a.state.lower() not in ("resolved", "inactive")
        }
        for key, a in firing.items():
            if key not in alerts:
                alerts[key] = {"name": a.name, "severity": a.severity}
                add(ev.alert_firing(a.name, a.severity, a.since, a.summary, a.labels, a.source,
                                    signals=signals), fid)  # fmt: skip
        for key in [k for k in alerts if k.startswith(f"{fid}|") and k not in firing]:
            gone = alerts.pop(key)
            add(ev.alert_resolved(gone["name"], gone["severity"], signals=signals), fid)
        # A deploy is reported per function or per service (a service deploy is its functions').
        service = h.function.service
        for d in (*snapshot.deploys.get(fid, ()), *snapshot.deploys.get(service, ())):
            # Not keyed by time: a source may report the same deploy with a drifting time.
            key = f"{fid}|{d.version}|{d.previous_version}"
            if key not in deploys:
                deploys.append(key)
                seen = ev.deploy_seen(d.version, d.previous_version, d.at, d.author,
                                      d.description, at, signals=signals)  # fmt: skip
                add(seen, fid, iso_ms(d.at))
    last = old.get("sampled_at")
    if out:
        last = now
    elif now is not None and (last is None or now - float(last) >= sample_every_s):
        out.append(ev.signals_sampled(signals).on(incident_id=incident_id, at=at))
        last = now
    state = {"findings": findings, "alerts": alerts, "deploys": deploys, "sampled_at": last}
    return out, state
