"""A separate process writing to one store: ``python store_writer.py URL ACTOR INCIDENT NOTES
RUNS``. Adds NOTES notes and records RUNS runs (a row, run.started, run.ended) on INCIDENT,
interleaved, as ACTOR; prints ``done N`` with the number of events it appended.

The PostgreSQL password comes from PGPASSWORD (as libpq reads it)."""

from __future__ import annotations

import sys

from console.core import events as ev
from console.engine.incidents.lifecycle import add_note
from console.engine.runbooks.step_records import RunRecorder
from console.engine.store.connect import open_store
from console.engine.store.events import EventLog


def main(url: str, actor: str, incident: str, notes: int, runs: int) -> int:
    store = open_store(url)
    try:
        log = EventLog(store, actor=actor)
        recorder = RunRecorder(store)
        recorder.log = log
        written = 0
        for i in range(max(notes, runs)):
            if i < notes:
                add_note(store, incident, f"{actor} note {i}", log=log)
                written += 1
            if i < runs:
                record = recorder.runs.new(
                    "t-scale", "", "checkout:POST /pay", {"n": i}, [("scale", "action")],
                    dry_run=False, incident_id=incident, environment="",
                )  # fmt: skip
                started = ev.run_started(
                    "t-scale", {"n": i}, dry_run=False, environment="", production=False,
                    read_only=False, no_incident=False,
                )  # fmt: skip
                recorder.start(record, started)
                recorder.finish(record, "succeeded")
                written += 2
        print(f"done {written}", flush=True)
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    a = sys.argv[1:]
    sys.exit(main(a[0], a[1], a[2], int(a[3]), int(a[4])))
