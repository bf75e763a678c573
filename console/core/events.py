"""The event schema: every kind of timeline event, the payload each carries, and the row.

Writers build events only through the constructors here (one per :class:`EventKind`, its
payload as typed arguments), so what an event of a kind holds is written down once; the
engine's :class:`~console.engine.events.EventLog` chains and stores them, and readers
(:mod:`console.core.timeline`, the postmortem) dispatch on the kind. The kind values are the
strings stored since the first release: existing stores and their hash chains still verify.
A second store implementation (#12) writes and reads these same types.

Pure: no I/O. Readers must still accept any kind string (an old or foreign store may hold
others); only writers are held to :class:`EventKind`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, NamedTuple

#: The ``prev_hash`` of the first event in a chain.
GENESIS = "0" * 64

#: ``{function id: {signal: value}}`` (None: the function was not in the snapshot).
Signals = Mapping[str, Any]


class EventKind(StrEnum):
    """Every kind of event Callboard writes (the values are what the store holds)."""

    INCIDENT_OPENED = "incident.opened"
    NOTE = "note"
    STATUS_CHANGED = "status.changed"
    FINDING_APPEARED = "finding.appeared"
    FINDING_CLEARED = "finding.cleared"
    ALERT_FIRING = "alert.firing"
    ALERT_RESOLVED = "alert.resolved"
    DEPLOY_SEEN = "deploy.seen"
    SIGNALS_SAMPLED = "signals.sampled"
    RUN_STARTED = "run.started"
    RUN_ENDED = "run.ended"
    RUN_LINKED = "run.linked"
    RUN_RESUMED = "run.resumed"
    RUN_UNDO = "run.undo"
    RUN_CANCELLED = "run.cancelled"
    STEP_INTENT = "step.intent"
    STEP_RESULT = "step.result"
    STEP_REFUSED = "step.refused"
    STEP_CONFIRMED = "step.confirmed"
    STEP_REPLANNED = "step.replanned"
    STEP_OUTCOME = "step.outcome"
    ANNOTATION_REFUSED = "annotation.refused"
    ANNOTATION_FAILED = "annotation.failed"
    ROLE_ASSIGNED = "role.assigned"
    ROLE_UNASSIGNED = "role.unassigned"
    LEASE_ACQUIRED = "lease.acquired"
    LEASE_RELEASED = "lease.released"
    LEASE_REFUSED = "lease.refused"
    LEASE_TAKEN_OVER = "lease.taken_over"
    LEASE_LOST = "lease.lost"
    INCIDENT_PUSHED = "incident.pushed"
    DRILL_STARTED = "drill.started"
    DRILL_INJECTED = "drill.injected"
    DRILL_SCREEN = "drill.screen"
    DRILL_KEY = "drill.key"
    DRILL_ENDED = "drill.ended"


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append: its kind and payload, and where it belongs.

    Build one with a constructor below, then place it with :meth:`on`. ``kind`` is typed
    ``str`` because imports (``EventLog.bulk_append``) carry the kinds of the store they
    come from; Callboard's own writers only ever pass an :class:`EventKind`.
    """

    kind: str
    data: dict[str, Any] = field(default_factory=dict)
    incident_id: str | None = None
    run_id: str | None = None
    function_id: str | None = None
    at: str | None = None
    actor: str | None = None
    #: The event's id when it already has one (a pushed event keeps its id); None: a new id.
    id: str | None = None

    def on(
        self,
        *,
        incident_id: str | None = None,
        run_id: str | None = None,
        function_id: str | None = None,
        at: str | None = None,
    ) -> NewEvent:
        """This event on an incident, a run and a function, at a time (None: unchanged)."""
        return replace(
            self,
            incident_id=self.incident_id if incident_id is None else incident_id,
            run_id=self.run_id if run_id is None else run_id,
            function_id=self.function_id if function_id is None else function_id,
            at=self.at if at is None else at,
        )


class Event(NamedTuple):
    """One event as stored: the row every reader gets (the log, exports, the chain check).

    ``raw`` is the data column exactly as stored (``canonical_json(data)``) when known, so
    an export can write it instead of encoding ``data`` again; None for unreadable data.
    """

    seq: int
    id: str
    at: str
    kind: str
    actor: str
    incident_id: str | None
    run_id: str | None
    function_id: str | None
    data: dict[str, Any]
    prev_hash: str = GENESIS
    hash: str = ""
    raw: str | None = None

    def body(self) -> dict[str, Any]:
        """What the hash covers."""
        return {
            "seq": self.seq,
            "id": self.id,
            "at": self.at,
            "kind": self.kind,
            "actor": self.actor,
            "incident_id": self.incident_id,
            "run_id": self.run_id,
            "function_id": self.function_id,
            "data": self.data,
        }


def copy_of(event: Event, *, incident_id: str | None) -> NewEvent:
    """A stored event to append to another store's chain (a push): its kind, data, id,
    time, actor, run and function kept, its incident ``incident_id`` there."""
    return NewEvent(
        event.kind,
        dict(event.data),
        incident_id=incident_id,
        run_id=event.run_id,
        function_id=event.function_id,
        at=event.at,
        actor=event.actor,
        id=event.id,
    )


def _new(kind: EventKind, data: dict[str, Any], signals: Signals | None = None) -> NewEvent:
    if signals is not None:
        data["signals"] = dict(signals)
    return NewEvent(kind, data)


# -- an incident's own events ------------------------------------------------------------


def incident_opened(
    title: str,
    severity: str,
    functions: Sequence[str],
    *,
    environment: str = "",
    signals: Signals | None = None,
) -> NewEvent:
    """The incident was opened (``environment`` only when known)."""
    data: dict[str, Any] = {"title": title, "severity": severity, "functions": list(functions)}
    if environment:
        data["environment"] = environment
    return _new(EventKind.INCIDENT_OPENED, data, signals)


def note(text: str, *, signals: Signals | None = None) -> NewEvent:
    """Someone wrote a note on the timeline."""
    return _new(EventKind.NOTE, {"text": text}, signals)


def status_changed(was: str, now: str, *, signals: Signals | None = None) -> NewEvent:
    """The incident moved forward: ``open`` → ``mitigated`` → ``resolved``."""
    return _new(EventKind.STATUS_CHANGED, {"from": was, "to": now}, signals)


# -- what the recorder saw in a fleet refresh (each carries the functions' signals) ------


def finding_appeared(
    mode: str,
    name: str,
    severity: str,
    evidence: str,
    values: Mapping[str, Any],
    runbooks: Sequence[str],
    *,
    signals: Signals,
) -> NewEvent:
    """A failure mode was diagnosed on a function."""
    data = {"mode": mode, "name": name, "severity": severity, "evidence": evidence,
            "values": dict(values), "runbooks": list(runbooks)}  # fmt: skip
    return _new(EventKind.FINDING_APPEARED, data, signals)


def finding_cleared(mode: str, name: str, *, signals: Signals) -> NewEvent:
    """A finding recorded before is no longer diagnosed."""
    return _new(EventKind.FINDING_CLEARED, {"mode": mode, "name": name}, signals)


def alert_firing(
    name: str,
    severity: str,
    since: str | None,
    summary: str,
    labels: Mapping[str, str],
    source: str,
    *,
    signals: Signals,
) -> NewEvent:
    """An alert on a function started firing."""
    data = {"name": name, "severity": severity, "since": since, "summary": summary,
            "labels": dict(labels), "source": source}  # fmt: skip
    return _new(EventKind.ALERT_FIRING, data, signals)


def alert_resolved(name: str, severity: str, *, signals: Signals) -> NewEvent:
    """An alert recorded firing stopped."""
    return _new(EventKind.ALERT_RESOLVED, {"name": name, "severity": severity}, signals)


def deploy_seen(
    version: str,
    previous_version: str | None,
    deployed_at: str,
    author: str,
    description: str,
    observed_at: str,
    *,
    signals: Signals,
) -> NewEvent:
    """A deploy of a function (or its service) was reported."""
    data = {"version": version, "previous_version": previous_version, "deployed_at": deployed_at,
            "author": author, "description": description, "observed_at": observed_at}  # fmt: skip
    return _new(EventKind.DEPLOY_SEEN, data, signals)


def signals_sampled(signals: Signals) -> NewEvent:
    """Nothing changed for a while: the key signals, for the postmortem's chart."""
    return _new(EventKind.SIGNALS_SAMPLED, {}, signals)


# -- a runbook run -----------------------------------------------------------------------


def run_started(
    runbook: str,
    params: Mapping[str, Any],
    *,
    dry_run: bool,
    environment: str,
    production: bool,
    read_only: bool,
    no_incident: bool,
) -> NewEvent:
    """A run began, with its (recorded) params and the safety settings it ran under."""
    data = {"runbook": runbook, "params": dict(params), "dry_run": dry_run,
            "environment": environment, "production": production, "read_only": read_only,
            "no_incident": no_incident}  # fmt: skip
    return _new(EventKind.RUN_STARTED, data)


def run_ended(status: str) -> NewEvent:
    """A run finished (``succeeded``, ``failed``, ``refused``, ``cancelled``, ``undone``...)."""
    return _new(EventKind.RUN_ENDED, {"status": status})


def run_linked(incident: str, runbook: str) -> NewEvent:
    """A run joined the function's open incident."""
    return _new(EventKind.RUN_LINKED, {"incident": incident, "runbook": runbook})


def run_resumed(runbook: str) -> NewEvent:
    """An interrupted run was resumed."""
    return _new(EventKind.RUN_RESUMED, {"runbook": runbook})


def run_undo(runbook: str, was: str) -> NewEvent:
    """The done steps of a run are being reversed (``was``: its status before)."""
    return _new(EventKind.RUN_UNDO, {"runbook": runbook, "was": was})


def run_cancelled(*, before: str | None = None, in_step: str | None = None) -> NewEvent:
    """The operator cancelled a run, ``before`` a step started or while ``in_step`` ran."""
    data = {"in": in_step} if in_step is not None else {"before": before}
    return _new(EventKind.RUN_CANCELLED, data)


def step_intent(step: str, kind: str, target: str, attempt: int, what: str) -> NewEvent:
    """A step is about to run (written before it runs: a crash leaves it without result)."""
    data = {"step": step, "kind": kind, "target": target, "attempt": attempt, "what": what}
    return _new(EventKind.STEP_INTENT, data)


def step_result(
    step: str,
    kind: str,
    status: str,
    output: str,
    exit_code: int | None,
    duration_ms: float | None,
) -> NewEvent:
    """What came of a step's attempt."""
    data = {"step": step, "kind": kind, "status": status, "output": output,
            "exit_code": exit_code, "duration_ms": duration_ms}  # fmt: skip
    return _new(EventKind.STEP_RESULT, data)


def step_refused(step: str, reason: str, what: str | None = None) -> NewEvent:
    """A step was not run: read-only, no confirmation, or an unknown outcome left open."""
    data = {"step": step, "reason": reason}
    if what is not None:
        data["what"] = what
    return _new(EventKind.STEP_REFUSED, data)


def step_confirmed(step: str, target: str, reason: str, what: str) -> NewEvent:
    """The operator confirmed a step that asks (``reason``: why it asked)."""
    data = {"step": step, "target": target, "reason": reason, "what": what}
    return _new(EventKind.STEP_CONFIRMED, data)


def step_replanned(step: str, before: str, after: str) -> NewEvent:
    """On resume a step's plan differs from the one shown before the crash."""
    return _new(EventKind.STEP_REPLANNED, {"step": step, "before": before, "after": after})


def step_outcome(step: str, decision: str) -> NewEvent:
    """A step a crash left unknown was settled on resume."""
    return _new(EventKind.STEP_OUTCOME, {"step": step, "decision": decision})


def annotation_refused(
    backends: Sequence[str], reason: str, *, step: str | None = None, text: str | None = None
) -> NewEvent:
    """Read-only kept an annotation from the dashboards (for a run's ``step``, or the
    incident's own change with its ``text``)."""
    data: dict[str, Any] = {} if step is None else {"step": step}
    data |= {"backends": list(backends), "reason": reason}
    if text is not None:
        data["text"] = text
    return _new(EventKind.ANNOTATION_REFUSED, data)


def annotation_failed(step: str, errors: Mapping[str, str]) -> NewEvent:
    """Posting an annotation for a step failed on some dashboards."""
    return _new(EventKind.ANNOTATION_FAILED, {"step": step, "errors": dict(errors)})


# -- a team on one incident: roles, leases, pushes ---------------------------------------


def role_assigned(role: str, who: str, *, was: str | None = None) -> NewEvent:
    """``who`` holds ``role`` on the incident now (``was``: who held it before)."""
    data: dict[str, Any] = {"role": role, "who": who}
    if was is not None:
        data["was"] = was
    return _new(EventKind.ROLE_ASSIGNED, data)


def role_unassigned(role: str, was: str) -> NewEvent:
    """Nobody holds ``role`` any more (``was`` did)."""
    return _new(EventKind.ROLE_UNASSIGNED, {"role": role, "was": was})


def lease_acquired(holder: str, host: str, runbook: str, run: str, expires_s: float) -> NewEvent:
    """A mutating run took the lease on its function (``expires_s``: without a heartbeat).

    Lease events name their run in the data, not as ``run_id``: a run's own events stay
    what its steps did."""
    data = {"holder": holder, "host": host, "runbook": runbook, "run": run,
            "expires_s": expires_s}  # fmt: skip
    return _new(EventKind.LEASE_ACQUIRED, data)


def lease_released(holder: str, runbook: str, run: str, status: str) -> NewEvent:
    """The run ended (``status``) and gave its function's lease back."""
    data = {"holder": holder, "runbook": runbook, "run": run, "status": status}
    return _new(EventKind.LEASE_RELEASED, data)


def lease_refused(
    holder: str, host: str, runbook: str, run: str, since: str, wanted: str
) -> NewEvent:
    """A mutating run of ``wanted`` was refused: ``holder``'s run holds the function."""
    data = {"holder": holder, "host": host, "runbook": runbook, "run": run, "since": since,
            "wanted": wanted}  # fmt: skip
    return _new(EventKind.LEASE_REFUSED, data)


def lease_taken_over(
    holder: str,
    run: str,
    runbook: str,
    previous: str,
    previous_run: str,
    previous_runbook: str,
    last_heartbeat: str,
) -> NewEvent:
    """``holder`` (run ``run`` of ``runbook``) took over a lease whose holder (``previous``)
    stopped heartbeating."""
    data = {"holder": holder, "run": run, "runbook": runbook, "previous": previous,
            "previous_run": previous_run, "previous_runbook": previous_runbook,
            "last_heartbeat": last_heartbeat}  # fmt: skip
    return _new(EventKind.LEASE_TAKEN_OVER, data)


def lease_lost(holder: str, run: str, taken_by: str) -> NewEvent:
    """A running run found its lease taken over by ``taken_by``: it stops."""
    return _new(EventKind.LEASE_LOST, {"holder": holder, "run": run, "taken_by": taken_by})


def incident_pushed(
    source: str, source_head_seq: int, source_head_hash: str, events: int, new_events: int
) -> NewEvent:
    """An incident recorded elsewhere was pushed here: ``events`` of its events (``new_events``
    of them not here before), from a chain whose head was ``source_head_hash``."""
    data = {"source": source, "source_head_seq": source_head_seq,
            "source_head_hash": source_head_hash, "events": events,
            "new_events": new_events}  # fmt: skip
    return _new(EventKind.INCIDENT_PUSHED, data)


# -- a drill (``callboard drill``): what the scorecard is computed from --------------------


def drill_started(
    scenario: str,
    modes: Sequence[str],
    functions: Mapping[str, str],
    runbooks: Mapping[str, Sequence[str]],
    *,
    seed: int,
    fleet: str,
) -> NewEvent:
    """A drill began: its hidden failure ``modes``, the function each shows on, and the
    runbooks that cure each (what the scorecard judges moves against)."""
    data = {"scenario": scenario, "modes": list(modes), "functions": dict(functions),
            "runbooks": {m: list(r) for m, r in runbooks.items()}, "seed": seed,
            "fleet": fleet}  # fmt: skip
    return _new(EventKind.DRILL_STARTED, data)


def drill_injected(modes: Sequence[str]) -> NewEvent:
    """The drill's failures began (placed ``at`` the moment they began)."""
    return _new(EventKind.DRILL_INJECTED, {"modes": list(modes)})


def drill_screen(screen: str) -> NewEvent:
    """The trainee opened a function's ``screen`` (``function``, ``runbooks``, ``traces``)."""
    return _new(EventKind.DRILL_SCREEN, {"screen": screen})


def drill_key(key: str, screen: str) -> NewEvent:
    """The trainee pressed a key (typed text into one input counts once: ``key`` "text")."""
    return _new(EventKind.DRILL_KEY, {"key": key, "screen": screen})


def drill_ended(reason: str, scorecard: Mapping[str, Any]) -> NewEvent:
    """The drill ended (``verified`` or ``quit``) with the scorecard computed from its events."""
    return _new(EventKind.DRILL_ENDED, {"reason": reason, "scorecard": dict(scorecard)})
