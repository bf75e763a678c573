"""Runbook runs and their steps in the store (tables ``runs`` and ``steps``).

Every write commits before it returns, so a crash loses nothing already recorded. A run
whose status is ``running`` but whose process is gone was interrupted: :func:`reconcile`
marks it so, and marks the step that was running ``unknown`` (it may or may not have taken
effect). Outputs are redacted before they are written.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from typing import Any

from console.core.redact import clip, redact_obj
from console.engine.store.base import Conn
from console.engine.store.base import StoreLike as Store
from console.engine.store.events import utc_now

__all__ = [
    "OUTPUT_LIMIT",
    "RunRecord",
    "RunStore",
    "StepRecord",
    "owner_alive",
    "pid_alive",
    "process_identity",
]

#: Characters of output kept per step (the tail: errors come last).
OUTPUT_LIMIT = 8000
#: Undo steps are stored after the runbook's own steps, at this offset + the step's index.
UNDO_OFFSET = 1000


@dataclass
class StepRecord:
    """One step of one run as recorded."""

    idx: int
    id: str
    kind: str
    status: str = "pending"
    output: str = ""
    exit_code: int | None = None
    started: str | None = None
    ended: str | None = None

    def to_json(self, run_status: str) -> dict[str, Any]:
        """The ``--json`` form; internal states map to the contract's step statuses."""
        status = self.status
        if status == "running":
            status = "unknown" if run_status != "running" else "running"
        elif status == "pending" and run_status != "running":
            status = "skipped"
        return {
            "id": self.id,
            "kind": self.kind,
            "status": status,
            "output": self.output,
            "started": self.started,
            "ended": self.ended,
        }


@dataclass
class RunRecord:
    """One run as recorded."""

    id: str
    runbook: str
    runbook_path: str
    function_id: str
    params: dict[str, Any]
    dry_run: bool
    status: str
    incident_id: str | None
    environment: str
    started: str
    ended: str | None
    pid: int | None
    steps: list[StepRecord] = field(default_factory=list)

    @property
    def progress(self) -> tuple[int, int]:
        """(done, total) of the runbook's own steps: undo steps are not counted."""
        own = [s for s in self.steps if s.idx < UNDO_OFFSET]
        return sum(1 for s in own if s.status == "done"), len(own)

    def to_json(self) -> dict[str, Any]:
        """The ``callboard run --json`` contract."""
        return {
            "run_id": self.id,
            "runbook": self.runbook,
            "function": self.function_id,
            "dry_run": self.dry_run,
            "status": self.status,
            "incident_id": self.incident_id,
            "started": self.started,
            "ended": self.ended,
            "steps": [s.to_json(self.status) for s in self.steps],
        }


def pid_alive(pid: int | None) -> bool:
    """Whether a process with ``pid`` exists (a zombie counts as gone)."""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return None


#: Stands in for the process start time where there is no /proc (not Linux).
_TOKEN = uuid.uuid4().hex


def process_identity(pid: int | None = None) -> str:
    """``pid:boot:start`` naming one process for its whole life, unlike its pid alone.

    A pid repeats (a container's process is often PID 1 every time); the boot id and the
    process start time (``/proc/PID/stat`` field 22) do not. Without /proc, this process is
    named by a random token instead.
    """
    pid = os.getpid() if pid is None else pid
    stat = _read(f"/proc/{pid}/stat")
    boot = _read("/proc/sys/kernel/random/boot_id")
    if stat is None or boot is None:
        return f"{pid}:token:{_TOKEN}"
    return f"{pid}:{boot}:{stat.rsplit(')', 1)[-1].split()[19]}"


def owner_alive(owner: str | None, pid: int | None, mine: str | None = None) -> bool:
    """Whether the process that recorded a run (``owner``, or only its ``pid``) still runs.

    Args:
        mine: this process's identity (default :func:`process_identity`).
    """
    mine = mine or process_identity()
    if owner is not None and owner.split(":", 1)[0] != str(pid):
        owner = None  # written by an older version, or edited: only the pid is known
    if owner is not None and owner == mine:
        return True
    if pid == os.getpid():
        return False  # another process that had our pid (a container's PID 1): gone
    if owner is None or ":token:" in owner or ":token:" in mine:
        return pid_alive(pid)
    return pid_alive(pid) and process_identity(pid or 0) == owner


class RunStore:
    """Reads and writes runs and steps in one Store.

    Args:
        identity: the process recording runs (tests pass another process's).
    """

    def __init__(self, store: Store, *, identity: str | None = None) -> None:
        self.store = store
        self.identity = identity or process_identity()

    def new(
        self,
        runbook: str,
        runbook_path: str,
        function_id: str,
        params: dict[str, Any],
        steps: list[tuple[str, str]],
        *,
        dry_run: bool,
        incident_id: str | None,
        environment: str,
    ) -> RunRecord:
        """A new run in memory (status ``running``, this process), params redacted; see
        :meth:`insert`."""
        return RunRecord(
            id=uuid.uuid4().hex[:12],
            runbook=runbook,
            runbook_path=runbook_path,
            function_id=function_id,
            params=redact_obj(params),
            dry_run=dry_run,
            status="running",
            incident_id=incident_id,
            environment=environment,
            started=utc_now(),
            ended=None,
            pid=os.getpid(),
            steps=[StepRecord(idx, step_id, kind) for idx, (step_id, kind) in enumerate(steps)],
        )

    def insert(self, conn: Conn, record: RunRecord) -> None:
        """Write a new run and its steps inside the caller's transaction on ``conn``."""
        conn.execute(
            "INSERT INTO runs (id, runbook, runbook_path, function_id, params, dry_run, status,"
            " incident_id, environment, started_at, pid, owner)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                record.id,
                record.runbook,
                record.runbook_path,
                record.function_id,
                json.dumps(record.params),
                int(record.dry_run),
                record.status,
                record.incident_id,
                record.environment,
                record.started,
                record.pid,
                self.identity,
            ),
        )
        for step in record.steps:
            self.write_step(conn, record.id, step)

    def write_run(self, conn: Conn, record: RunRecord, *, claim: bool = False) -> None:
        """Write the run's own row as ``record`` has it (status, end, incident) inside the
        caller's transaction; ``claim``: this process takes the run over (a resume)."""
        conn.execute(
            "UPDATE runs SET status = ?, ended_at = ?, incident_id = ? WHERE id = ?",
            (record.status, record.ended, record.incident_id, record.id),
        )
        if claim:
            record.pid = os.getpid()
            conn.execute(
                "UPDATE runs SET pid = ?, owner = ? WHERE id = ?",
                (record.pid, self.identity, record.id),
            )

    def write_step(self, conn: Conn, run_id: str, step: StepRecord) -> None:
        """Insert or update one step (output redacted and trimmed to its tail) inside the
        caller's transaction on ``conn``."""
        output = clip(step.output, OUTPUT_LIMIT + 1, tail=True)  # redacted before it is cut
        step.output = output
        conn.execute(
            "INSERT INTO steps (run_id, idx, step_id, kind, status, output, exit_code, started_at,"
            " ended_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(run_id, idx) DO UPDATE SET"
            " status = excluded.status, output = excluded.output, exit_code = excluded.exit_code,"
            " started_at = excluded.started_at, ended_at = excluded.ended_at",
            (
                run_id,
                step.idx,
                step.id,
                step.kind,
                step.status,
                output,
                step.exit_code,
                step.started,
                step.ended,
            ),
        )

    def get(self, run_id: str) -> RunRecord | None:
        rows = self.store.query("SELECT * FROM runs WHERE id = ?", (run_id,))
        if not rows:
            return None
        return self._record(rows[0])

    def recent(self, limit: int = 50) -> list[RunRecord]:
        """The newest runs first (interrupted ones reconciled)."""
        self.reconcile()
        rows = self.store.query("SELECT * FROM runs ORDER BY started_at DESC LIMIT ?", (limit,))
        return [self._record(r) for r in rows]

    def reconcile(self) -> list[str]:
        """Mark runs whose process is gone as interrupted; returns their ids.

        A process is named by :func:`process_identity`, so a run left by a process that
        had this one's pid (PID 1 after a container restart) counts as gone.
        """
        rows = self.store.query("SELECT id, pid, owner FROM runs WHERE status = 'running'")
        gone = [r["id"] for r in rows if not owner_alive(r["owner"], r["pid"], self.identity)]
        for run_id in gone:
            with self.store.transaction() as conn:
                conn.execute("UPDATE runs SET status = 'interrupted' WHERE id = ?", (run_id,))
                conn.execute(
                    "UPDATE steps SET status = 'unknown' WHERE run_id = ? AND status = 'running'",
                    (run_id,),
                )
        return gone

    def _record(self, row: Any) -> RunRecord:
        steps = [
            StepRecord(
                idx=s["idx"],
                id=s["step_id"],
                kind=s["kind"],
                status=s["status"],
                output=s["output"],
                exit_code=s["exit_code"],
                started=s["started_at"],
                ended=s["ended_at"],
            )
            for s in self.store.query(
                "SELECT * FROM steps WHERE run_id = ? ORDER BY idx", (row["id"],)
            )
        ]
        try:
            params = json.loads(row["params"])
        except ValueError:
            params = {}
        return RunRecord(
            id=row["id"],
            runbook=row["runbook"],
            runbook_path=row["runbook_path"],
            function_id=row["function_id"],
            params=params,
            dry_run=bool(row["dry_run"]),
            status=row["status"],
            incident_id=row["incident_id"],
            environment=row["environment"],
            started=row["started_at"],
            ended=row["ended_at"],
            pid=row["pid"],
            steps=steps,
        )
