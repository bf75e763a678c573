"""The scorecard is computed from a drill's events alone: times from their ``at`` (a fixed
clock here), moves from their order."""

from __future__ import annotations

from console.core import events as ev
from console.core.drill_score import fmt_s, score
from console.core.events import Event, NewEvent
from console.core.timeline import iso_at

T0 = 1795726800.0
PAY = "checkout:POST /pay"
DRILL = "DRILL-0001"


class Log:
    """Events as a store would hand them back, placed at T0 + seconds."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, new: NewEvent, at_s: float, **where: str) -> None:
        placed = new.on(at=iso_at(T0 + at_s), **where)
        self.events.append(Event(
            len(self.events) + 1, f"e{len(self.events)}", placed.at or "", placed.kind, "maya",
            placed.incident_id, placed.run_id, placed.function_id, placed.data,
        ))  # fmt: skip

    def start(self, modes: dict[str, str], cures: dict[str, list[str]]) -> None:
        self.add(ev.drill_started("F1", list(modes), modes, cures, seed=7, fleet="demo"), 0,
                 incident_id=DRILL)  # fmt: skip

    def run(self, run_id: str, runbook: str, fid: str, at_s: float, *, dry: bool,
            status: str = "succeeded", took: float = 10.0) -> None:  # fmt: skip
        started = ev.run_started(runbook, {}, dry_run=dry, environment="drill", production=False,
                                 read_only=False, no_incident=False)  # fmt: skip
        self.add(started, at_s, run_id=run_id, function_id=fid)
        self.add(ev.run_ended(status), at_s + took, run_id=run_id, function_id=fid)


def f1_drill() -> Log:
    log = Log()
    log.start({"F1": PAY}, {"F1": ["rollback-bad-deploy"]})
    log.add(ev.drill_key("home", "fleet"), 5, incident_id=DRILL)  # before the failure
    log.add(ev.drill_injected(["F1"]), 60, incident_id=DRILL)
    log.add(ev.drill_screen("function"), 50, incident_id=DRILL, function_id="cart:rpc GetCart")
    log.add(ev.drill_screen("function"), 150, incident_id=DRILL, function_id=PAY)
    log.add(ev.drill_screen("function"), 170, incident_id=DRILL, function_id=PAY)
    for i in range(6):
        log.add(ev.drill_key("enter", "function"), 150 + i, incident_id=DRILL)
    log.run("r1", "rollback-bad-deploy", PAY, 180, dry=True)
    log.run("r2", "rollback-bad-deploy", PAY, 200, dry=False, took=40)
    return log


def test_times_are_measured_from_the_injection_on_the_events_clock() -> None:
    card = score(f1_drill().events)
    assert card is not None
    assert card.injected_after_s == 60.0
    assert card.detect_s == 90.0  # the first screen on checkout after the failure began
    assert card.dry_run_s == 120.0  # the curing runbook's dry run
    assert card.mitigated_s == 180.0  # its real run ended succeeded at 240 s
    assert card.verified and card.keys == 7 and card.keys_to_mitigate == 7
    assert card.wrong_moves == () and card.runs == 1 and card.actor == "maya"
    assert card.summary() == (
        "detected 1m 30s, dry run 2m 00s, mitigation verified 3m 00s, 7 keys, 0 wrong moves"
    )


def test_wrong_moves_a_healthy_function_and_a_runbook_that_does_not_cure() -> None:
    log = f1_drill()
    log.events = log.events[:-2]  # no real rollback
    log.run("r3", "partial-failure-drain", "cart:rpc GetCart", 200, dry=False)
    log.run("r4", "resource-scale-out", PAY, 220, dry=False)
    log.run("r5", "cold-start-scale-up", PAY, 230, dry=True)  # a dry run changes nothing
    card = score(log.events)
    assert card is not None and not card.verified and card.mitigated_s is None
    assert [(w.runbook, w.function_id, w.why) for w in card.wrong_moves] == [
        ("partial-failure-drain", "cart:rpc GetCart", "cart:rpc GetCart was healthy"),
        ("resource-scale-out", PAY, "resource-scale-out does not cure F1"),
    ]
    assert [w.after_s for w in card.wrong_moves] == [140.0, 160.0]
    assert card.to_json()["mitigated_s"] is None  # never reached: null, not 0


def test_a_failed_run_does_not_verify_and_a_combination_needs_every_mode() -> None:
    log = Log()
    log.start({"F1": PAY, "F9": "payments:rpc Authorize"},
              {"F1": ["rollback-bad-deploy"], "F9": ["dependency-circuit-open"]})  # fmt: skip
    log.add(ev.drill_injected(["F1", "F9"]), 30, incident_id=DRILL)
    log.run("r1", "rollback-bad-deploy", PAY, 100, dry=False, status="failed")
    log.run("r2", "rollback-bad-deploy", PAY, 130, dry=False)
    assert score(log.events).mitigated_s is None  # type: ignore[union-attr]  # F9 still burns
    log.run("r3", "dependency-circuit-open", "payments:rpc Authorize", 200, dry=False)
    card = score(log.events)
    assert card is not None and card.mitigated_s == 180.0  # the last mode's cure, 210 - 30


def test_incidents_and_notes_count_and_nothing_after_the_end() -> None:
    log = f1_drill()
    log.add(ev.incident_opened("F1 on pay", "SEV2", [PAY]), 190, incident_id="INC-0001")
    log.add(ev.note("rolled back"), 250, incident_id="INC-0001")
    log.add(ev.drill_ended("verified", {}), 260, incident_id=DRILL)
    log.add(ev.drill_key("q", "scorecard"), 261, incident_id=DRILL)
    log.add(ev.note("after the end"), 262, incident_id="INC-0001")
    card = score(log.events)
    assert card is not None and card.incident_opened and card.notes == 1
    assert card.keys == 7 and card.ended == "verified" and card.duration_s == 260.0


def test_a_drill_that_never_began_measures_nothing() -> None:
    log = Log()
    log.start({"F1": PAY}, {"F1": ["rollback-bad-deploy"]})
    log.add(ev.drill_screen("function"), 10, incident_id=DRILL, function_id=PAY)
    log.add(ev.drill_ended("quit", {}), 12, incident_id=DRILL)
    card = score(log.events)
    assert card is not None
    assert (card.injected_after_s, card.detect_s, card.dry_run_s) == (None, None, None)
    assert score([]) is None
    assert [fmt_s(s) for s in (None, 0.4, 59.6, 75.0, 3600.0)] == ["—", "0s", "1m 00s",
                                                                    "1m 15s", "60m 00s"]  # fmt: skip
