"""Leases: no two hands on one lever.

A mutating run (not a dry run) on a function holds that function's lease in the store
(table ``leases``: holder, host, run id, runbook, acquired, heartbeat, expiry) from before
its first step to its end; a second mutating run on the same function — another responder,
another process, another machine on the same store — is refused with who holds it and since
when. The lease is taken inside one transaction with an ``INSERT ... ON CONFLICT DO NOTHING``
and a compare-and-set ``UPDATE`` for a takeover, so two processes racing get exactly one
winner on either engine.

The holder heartbeats every :data:`HEARTBEAT_S` seconds; a lease whose heartbeat is older
than :data:`EXPIRY_S` (90 s: three missed heartbeats) is stale: its holder crashed, lost
the network or was suspended. A stale lease is never taken silently: ``--take-over`` (the
console asks) takes it, and the ``lease.taken_over`` event names both holders. A holder
whose lease was taken over sees it at its next heartbeat (``lease.lost``) and stops. A
resume of an interrupted run takes its own run's lease back. Times are epoch seconds
written by Python (the store computes nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from console.core import events as ev
from console.core.events import NewEvent
from console.core.team import clean_handle
from console.core.timeline import iso_at
from console.engine.store.base import StoreLike
from console.engine.store.events import EventLog, actor_of
from console.errors import CallboardError

__all__ = ["EXPIRY_S", "HEARTBEAT_S", "Lease", "LeaseHeld", "Leases", "hhmm"]

#: A lease without a heartbeat for this long is stale and may be taken over (seconds).
EXPIRY_S = 90.0
#: How often a running run renews its lease (seconds).
HEARTBEAT_S = 30.0

_COLUMNS = (
    "function_id, holder, host, run_id, runbook, incident_id, acquired, heartbeat, expires, token"
)


def hhmm(t: float) -> str:
    """``03:02`` (UTC) of epoch seconds ``t``."""
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M")


def _ago(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s}s" if s < 120 else f"{s // 60}m" if s < 7200 else f"{s // 3600}h"


@dataclass(frozen=True, slots=True)
class Lease:
    """One function's lease as stored."""

    function_id: str
    holder: str
    host: str
    run_id: str
    runbook: str
    incident_id: str | None
    acquired: float
    heartbeat: float
    expires: float
    #: Names this one acquisition: a takeover replaces the lease only if it is still the
    #: one read (compare-and-set on a text, never on a float time).
    token: str = ""

    @classmethod
    def of(cls, row: Any) -> Lease:
        return cls(
            str(row[0]), str(row[1]), str(row[2]), str(row[3]), str(row[4]),
            None if row[5] is None else str(row[5]),
            float(row[6]), float(row[7]), float(row[8]), str(row[9]),
        )  # fmt: skip

    def stale(self, now: float) -> bool:
        """Whether its holder stopped heartbeating (it may be taken over)."""
        return now >= self.expires

    def describe(self) -> str:
        """``alice@laptop is running rollback-bad-deploy on checkout:POST /pay since 03:02
        UTC, run 1fce2a…``."""
        return (
            f"{self.holder} is running {self.runbook} on {self.function_id} since "
            f"{hhmm(self.acquired)} UTC, run {self.run_id}"
        )


class LeaseHeld(CallboardError):
    """A mutating run refused: another run holds the function's lease (exit 1)."""

    exit_code = 1

    def __init__(self, lease: Lease, now: float) -> None:
        self.lease = lease
        self.stale = lease.stale(now)
        if self.stale:
            hint = (
                f"; its last heartbeat was {_ago(now - lease.heartbeat)} ago (stale): "
                "take it over with --take-over"
            )
        else:
            hint = f" (host {lease.host}); wait for it to end, or ask {lease.holder}"
        super().__init__(lease.describe() + hint)


class Leases:
    """The leases of one store, taken by one actor on one host.

    Args:
        clock: epoch seconds (tests pass a fake one to make a lease stale).
        expiry_s: seconds without a heartbeat after which a lease is stale.
    """

    def __init__(
        self,
        store: StoreLike,
        *,
        holder: str | None = None,
        host: str | None = None,
        clock: Callable[[], float] = time.time,
        expiry_s: float = EXPIRY_S,
    ) -> None:
        self.store = store
        self.holder = holder or actor_of(store)
        self.host = clean_handle(host or socket.gethostname().split(".", 1)[0]) or "unknown"
        self.clock = clock
        self.expiry_s = expiry_s
        self.log = EventLog(store, self.holder)

    def get(self, function_id: str) -> Lease | None:
        """The function's lease (stale or not), None when free."""
        rows = self.store.tuples(f"SELECT {_COLUMNS} FROM leases WHERE function_id = ?",
                                 (function_id,))  # fmt: skip
        return Lease.of(rows[0]) if rows else None

    def all(self) -> list[Lease]:
        """Every lease held now, by function."""
        rows = self.store.tuples(f"SELECT {_COLUMNS} FROM leases ORDER BY function_id")
        return [Lease.of(r) for r in rows]

    def acquire(
        self,
        function_id: str,
        run_id: str,
        runbook: str,
        *,
        incident_id: str | None = None,
        take_over: bool = False,
    ) -> Lease:
        """Take the function's lease for ``run_id``, or raise :class:`LeaseHeld`.

        The run's own lease (a resume after a crash) is taken back; another run's only with
        ``take_over`` and only once it is stale. A refusal is recorded (``lease.refused``).
        """
        now = self.clock()
        mine = Lease(function_id, self.holder, self.host, run_id, runbook, incident_id, now, now,
                     now + self.expiry_s, uuid.uuid4().hex)  # fmt: skip
        place = {"incident_id": incident_id, "function_id": function_id}
        refused: LeaseHeld | None = None
        with self.store.transaction() as conn:
            cur = conn.execute(
                f"INSERT INTO leases ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(function_id) DO NOTHING",
                (
                    function_id,
                    mine.holder,
                    mine.host,
                    run_id,
                    runbook,
                    incident_id,
                    now,
                    now,
                    mine.expires,
                    mine.token,
                ),
            )
            if cur.rowcount == 1:
                said = ev.lease_acquired(mine.holder, mine.host, runbook, run_id, self.expiry_s)
                self._say(conn, said, place)
                return mine
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM leases WHERE function_id = ?", (function_id,)
            ).fetchone()
            held = Lease.of(row)
            if held.run_id == run_id or (take_over and held.stale(now)):
                self._replace(conn, held, mine)
                if held.run_id == run_id:
                    said = ev.lease_acquired(mine.holder, mine.host, runbook, run_id, self.expiry_s)
                else:
                    said = ev.lease_taken_over(mine.holder, run_id, runbook, held.holder,
                                               held.run_id, held.runbook, iso_at(held.heartbeat))  # fmt: skip
                self._say(conn, said, place)
                return mine
            refused = LeaseHeld(held, now)
            since = iso_at(held.acquired)
            self._say(conn, ev.lease_refused(held.holder, held.host, held.runbook, held.run_id,
                                             since, runbook),
                      {**place, "incident_id": incident_id or held.incident_id})  # fmt: skip
        raise refused

    def _replace(self, conn: Any, held: Lease, mine: Lease) -> None:
        """Compare-and-set: only if the lease is still the acquisition read (its token) and,
        for another run's, still stale (no heartbeat came meanwhile); else someone was faster."""
        stale = "" if held.run_id == mine.run_id else " AND expires <= ?"
        cur = conn.execute(
            "UPDATE leases SET holder = ?, host = ?, run_id = ?, runbook = ?, incident_id = ?,"
            " acquired = ?, heartbeat = ?, expires = ?, token = ?"
            f" WHERE function_id = ? AND token = ?{stale}",
            (mine.holder, mine.host, mine.run_id, mine.runbook, mine.incident_id, mine.acquired,
             mine.heartbeat, mine.expires, mine.token, held.function_id, held.token,
             *((mine.acquired,) if stale else ())),
        )  # fmt: skip
        if cur.rowcount != 1:
            raise LeaseHeld(held, mine.acquired)  # changed under us: not ours to take

    def heartbeat(self, function_id: str, run_id: str) -> bool:
        """Renew ``run_id``'s lease; False when it is no longer ours (taken over)."""
        now = self.clock()
        with self.store.transaction() as conn:
            cur = conn.execute(
                "UPDATE leases SET heartbeat = ?, expires = ? WHERE function_id = ? AND run_id = ?",
                (now, now + self.expiry_s, function_id, run_id),
            )
            return bool(cur.rowcount == 1)

    def release(self, lease: Lease, status: str, *, incident_id: str | None = None) -> bool:
        """Give the lease back at the run's end (``status``; ``incident_id``: the incident the
        run belongs to by then); False if it was not ours any more."""
        with self.store.transaction() as conn:
            cur = conn.execute(
                "DELETE FROM leases WHERE function_id = ? AND run_id = ?",
                (lease.function_id, lease.run_id),
            )
            if cur.rowcount != 1:
                return False
            place = {"incident_id": incident_id or lease.incident_id,
                     "function_id": lease.function_id}  # fmt: skip
            said = ev.lease_released(lease.holder, lease.runbook, lease.run_id, status)
            self._say(conn, said, place)
        return True

    def taken_by(self, function_id: str) -> str:
        """Who holds the function's lease now (after ours was taken), ``someone`` if nobody."""
        lease = self.get(function_id)
        return lease.holder if lease is not None else "someone"

    def _say(self, conn: Any, event: NewEvent, place: dict[str, str | None]) -> None:
        self.log.write(conn, [event.on(**{k: v for k, v in place.items() if v is not None})])

    @contextlib.asynccontextmanager
    async def holding(
        self,
        function_id: str,
        run_id: str,
        runbook: str,
        *,
        incident_id: str | None,
        take_over: bool,
        status: Callable[[], str],
        on_lost: Callable[[str], None],
        every: float = HEARTBEAT_S,
        incident_at_end: Callable[[], str | None] | None = None,
    ) -> AsyncIterator[Lease]:
        """Hold the lease while the body runs: acquired first (:class:`LeaseHeld` if not),
        renewed every ``every`` seconds, released at the end whatever ends it (``status()``:
        the run's status then). ``on_lost(holder)``: the lease was taken over meanwhile."""
        lease = self.acquire(function_id, run_id, runbook, incident_id=incident_id,
                             take_over=take_over)  # fmt: skip

        async def beat() -> None:
            while True:
                await asyncio.sleep(every)
                try:
                    ok = self.heartbeat(function_id, run_id)
                except CallboardError:  # the store failed once: the next beat tries again
                    continue
                if not ok:
                    taker = self.taken_by(function_id)
                    with contextlib.suppress(CallboardError):
                        place = {"incident_id": incident_id, "function_id": function_id}
                        with self.store.transaction() as conn:
                            self._say(conn, ev.lease_lost(self.holder, run_id, taker), place)
                    on_lost(taker)
                    return

        task = asyncio.get_running_loop().create_task(beat())
        try:
            yield lease
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            with contextlib.suppress(CallboardError):  # a full disk: it expires by itself
                end = incident_at_end() if incident_at_end is not None else None
                self.release(lease, status(), incident_id=end)
