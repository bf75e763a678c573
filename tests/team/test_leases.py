"""No two hands on one lever: a mutating run holds its function's lease; another responder's
mutating run is refused naming who and since when; dry runs are never blocked; a stale lease
is taken over only explicitly, recorded with both names; a resume takes the lease first."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from console.config import Config
from console.core.runbook import Runbook
from console.engine.fleet.build import build_fleet
from console.engine.runbooks.catalog import find_runbook
from console.engine.runbooks.executor import Executor
from console.engine.runbooks.leases import EXPIRY_S, Lease, LeaseHeld, Leases, hhmm
from console.engine.store.events import EventLog
from console.engine.store.sqlite import Store
from tests.team.conftest import PAY, ROLLBACK, cli, responder

ALICE_RUN = "1fce2a3b4c5d"


def rollback() -> Runbook:
    from console import paths

    return find_runbook(ROLLBACK, paths.runbook_dirs(()))


def values(rb: Runbook) -> dict[str, object]:
    """The runbook's params with their defaults, validated as the CLI does."""
    from console.core.runbook_params import resolve_params

    return dict(resolve_params(rb.params, {}, frozenset({PAY})))


def lease_events(store: Store) -> list[tuple[str, dict[str, object]]]:
    return [(e.kind, e.data) for e in EventLog(store).iter() if e.kind.startswith("lease.")]


def alice_holds(store: Store, *, clock: Callable[[], float] = time.time) -> Lease:
    """alice@laptop's run holds checkout:POST /pay (taken through the store, as her process)."""
    return Leases(store, holder="alice@laptop", host="laptop", clock=clock).acquire(
        PAY, ALICE_RUN, ROLLBACK
    )


def executor(store: Store, **kw: object) -> Executor:
    fleet = build_fleet(Config.demo_only(), store=store)

    async def yes(_: object) -> bool:
        return True

    return Executor(fleet, store, secret=lambda n: "x", confirm=yes, poll_every=0, **kw)  # type: ignore[arg-type]


def test_a_second_responders_run_is_refused_naming_holder_runbook_function_and_since(
    store_url: str, open_url: Callable[[str], Store], tmp_path: Path
) -> None:
    store = open_url(store_url)
    held = alice_holds(store)
    bob = responder(tmp_path, "bob@desk")
    done = cli(store_url, bob, "run", ROLLBACK, "--function", PAY, "--yes")
    assert done.returncode == 1, done.stderr
    expected = (
        f"alice@laptop is running {ROLLBACK} on {PAY} since {hhmm(held.acquired)} UTC, "
        f"run {ALICE_RUN}"
    )
    assert expected in done.stderr
    assert "refused:" in done.stderr and "Traceback" not in done.stderr
    # nothing of bob's run was started: no run row, the lease still alice's
    assert store.tuples("SELECT count(*) FROM runs")[0][0] == 0
    lease = Leases(store).get(PAY)
    assert lease is not None and lease.holder == "alice@laptop"
    refused = [(k, d) for k, d in lease_events(store) if k == "lease.refused"]
    assert len(refused) == 1 and refused[0][1]["holder"] == "alice@laptop"
    actors = {e.actor for e in EventLog(store).iter() if e.kind == "lease.refused"}
    assert actors == {"bob@desk"}


def test_a_dry_run_is_never_blocked(store_url: str, open_url: Callable[[str], Store]) -> None:
    store = open_url(store_url)
    alice_holds(store)
    run = asyncio.run(executor(store).start(rollback(), PAY, values(rollback()), dry_run=True))
    assert run.status == "succeeded" and run.dry_run
    lease = Leases(store).get(PAY)
    assert lease is not None and lease.run_id == ALICE_RUN  # untouched
    assert [k for k, _ in lease_events(store)] == ["lease.acquired"]  # alice's only


def test_a_real_run_holds_the_lease_while_it_runs_and_releases_it(
    store_url: str, open_url: Callable[[str], Store]
) -> None:
    store = open_url(store_url)
    seen: list[Lease | None] = []
    ex = executor(store)
    ex.on_update = lambda record: seen.append(Leases(store).get(PAY))
    run = asyncio.run(ex.start(rollback(), PAY, values(rollback())))
    assert run.status == "succeeded"
    assert seen and all(s is not None and s.run_id == run.id for s in seen)
    assert Leases(store).get(PAY) is None  # released at the end
    kinds = [k for k, _ in lease_events(store)]
    assert kinds == ["lease.acquired", "lease.released"]
    released = lease_events(store)[-1][1]
    assert released["run"] == run.id and released["status"] == "succeeded"


def test_a_failed_or_refused_run_releases_its_lease_too(
    store_url: str, open_url: Callable[[str], Store]
) -> None:
    store = open_url(store_url)
    fleet = build_fleet(Config.demo_only(), store=store)
    ex = Executor(fleet, store, secret=lambda n: "x", confirm=None, poll_every=0)
    run = asyncio.run(ex.start(rollback(), PAY, values(rollback())))  # no confirmation: refused
    assert run.status == "refused"
    assert Leases(store).get(PAY) is None
    assert lease_events(store)[-1][1]["status"] == "refused"


def test_a_stale_lease_is_refused_until_taken_over_explicitly_and_the_takeover_is_recorded(
    store_url: str, open_url: Callable[[str], Store], tmp_path: Path
) -> None:
    store = open_url(store_url)
    long_ago = time.time() - 10 * EXPIRY_S  # alice's process stopped heartbeating
    alice_holds(store, clock=lambda: long_ago)
    bob = responder(tmp_path, "bob@desk")
    refused = cli(store_url, bob, "run", ROLLBACK, "--function", PAY, "--yes")
    assert refused.returncode == 1
    assert "alice@laptop is running" in refused.stderr and "--take-over" in refused.stderr
    assert "stale" in refused.stderr
    taken = cli(store_url, bob, "run", ROLLBACK, "--function", PAY, "--yes", "--take-over")
    assert taken.returncode == 0, taken.stderr
    over = [d for k, d in lease_events(store) if k == "lease.taken_over"]
    assert len(over) == 1
    assert over[0]["holder"] == "bob@desk" and over[0]["previous"] == "alice@laptop"
    assert over[0]["previous_run"] == ALICE_RUN
    assert Leases(store).get(PAY) is None  # bob's run ended and released it


def test_a_live_lease_cannot_be_taken_over(
    store_url: str, open_url: Callable[[str], Store]
) -> None:
    store = open_url(store_url)
    alice_holds(store)
    bob = Leases(store, holder="bob@desk")
    try:
        bob.acquire(PAY, "b0b0b0b0b0b0", ROLLBACK, take_over=True)
    except LeaseHeld as exc:
        assert not exc.stale and "alice@laptop is running" in str(exc)
    else:
        raise AssertionError("a live lease was taken over")


def test_a_holder_whose_lease_was_taken_over_sees_it_at_its_next_heartbeat(
    store_url: str, open_url: Callable[[str], Store]
) -> None:
    store = open_url(store_url)
    now = [1000.0]
    alice = Leases(store, holder="alice@laptop", clock=lambda: now[0])
    lease = alice.acquire(PAY, ALICE_RUN, ROLLBACK)
    now[0] += 10
    assert alice.heartbeat(PAY, ALICE_RUN)  # renewed
    renewed = Leases(store).get(PAY)
    assert renewed is not None and (renewed.heartbeat, renewed.expires) == (
        1010.0,
        1010.0 + EXPIRY_S,
    )
    assert (renewed.acquired, renewed.token) == (lease.acquired, lease.token)
    later = now[0] + EXPIRY_S + 1  # alice's process was suspended past the expiry
    Leases(store, holder="bob@desk", clock=lambda: later).acquire(
        PAY, "b0b0b0b0b0b0", ROLLBACK, take_over=True
    )
    assert not alice.heartbeat(PAY, ALICE_RUN)  # no longer hers: her run stops


async def test_the_executor_stops_a_run_whose_lease_was_taken_over(
    store_url: str, open_url: Callable[[str], Store]
) -> None:
    store = open_url(store_url)
    alice = Leases(store, holder="alice@laptop")
    lost = asyncio.Event()
    taken_by: list[str] = []

    def on_lost(holder: str) -> None:
        taken_by.append(holder)
        lost.set()

    async with alice.holding(PAY, ALICE_RUN, ROLLBACK, incident_id=None, take_over=False,
                             status=lambda: "cancelled", on_lost=on_lost, every=0.01):  # fmt: skip
        future = time.time() + 10 * EXPIRY_S
        Leases(store, holder="bob@desk", clock=lambda: future).acquire(
            PAY, "b0b0b0b0b0b0", ROLLBACK, take_over=True
        )
        await asyncio.wait_for(lost.wait(), 10)
    assert taken_by == ["bob@desk"]
    assert [k for k, _ in lease_events(store)][-1] == "lease.lost"
    lease = Leases(store).get(PAY)
    assert lease is not None and lease.holder == "bob@desk"  # alice's release took nothing


RACER = """
import sys
from console.engine.runbooks.leases import LeaseHeld, Leases
from console.engine.store.connect import open_store
url, me = sys.argv[1], sys.argv[2]
store = open_store(url)
leases = Leases(store, holder=me)
print("ready", flush=True)
sys.stdin.readline()  # the start line: every racer waits here
try:
    leases.acquire("checkout:POST /pay", "run-" + me, "rollback-bad-deploy")
    print("won", flush=True)
except LeaseHeld as exc:
    print("lost", exc, flush=True)
store.close()
"""


def test_processes_racing_for_one_lease_get_exactly_one_winner(
    store_url: str, open_url: Callable[[str], Store]
) -> None:
    open_url(store_url)  # created and migrated before the racers start
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, store_url, f"p{i}@host"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    try:
        for p in racers:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in racers:  # released together: each is already blocked on its start line
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        outcomes = []
        for p in racers:
            out, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
            outcomes.append(out.split()[0])
    finally:
        for p in racers:
            if p.poll() is None:
                p.kill()
                p.communicate()
    assert sorted(outcomes) == ["lost", "lost", "lost", "won"]
    store = open_url(store_url)
    winner = f"p{outcomes.index('won')}@host"
    lease = Leases(store).get(PAY)
    assert lease is not None and lease.holder == winner
    kinds = sorted(k for k, _ in lease_events(store))
    assert kinds == ["lease.acquired", "lease.refused", "lease.refused", "lease.refused"]


def test_a_resume_takes_the_lease_first(
    store_url: str, open_url: Callable[[str], Store], tmp_path: Path
) -> None:
    store = open_url(store_url)
    alice = responder(tmp_path, "alice@laptop")
    first = cli(store_url, alice, "run", ROLLBACK, "--function", PAY, "--json")
    assert first.returncode == 3  # no --yes: refused at the rollback, resumable
    run_id = json.loads(first.stdout)["run_id"]
    # meanwhile bob's run holds the function: alice's resume is refused, nothing resumed
    Leases(store, holder="bob@desk").acquire(PAY, "b0b0b0b0b0b0", ROLLBACK)
    blocked = cli(store_url, alice, "run", "--resume", run_id, "--yes")
    assert blocked.returncode == 1 and "bob@desk is running" in blocked.stderr
    assert store.tuples("SELECT status FROM runs WHERE id = ?", (run_id,))[0][0] == "refused"
    Leases(store, holder="bob@desk").release(Leases(store).get(PAY), "succeeded")  # type: ignore[arg-type]
    resumed = cli(store_url, alice, "run", "--resume", run_id, "--yes", "--json")
    assert resumed.returncode == 0, resumed.stderr
    events = [(e.kind, e.actor, e.data) for e in EventLog(store).iter()]
    kinds = [k for k, _, _ in events]
    # the lease is taken before the run is claimed, released after it ends
    taken = max(
        i for i, (k, a, d) in enumerate(events) if k == "lease.acquired" and a == "alice@laptop"
    )
    assert events[taken][2]["run"] == run_id
    assert taken < kinds.index("run.resumed") < kinds.index("lease.released", taken)


def test_a_resume_takes_back_the_lease_its_crashed_process_left(
    store_url: str, open_url: Callable[[str], Store], tmp_path: Path
) -> None:
    store = open_url(store_url)
    alice = responder(tmp_path, "alice@laptop")
    first = cli(store_url, alice, "run", ROLLBACK, "--function", PAY, "--json")
    run_id = json.loads(first.stdout)["run_id"]
    # as if alice's process had died mid-run: its lease is still there, not yet stale
    Leases(store, holder="alice@laptop").acquire(PAY, run_id, ROLLBACK)
    resumed = cli(store_url, alice, "run", "--resume", run_id, "--yes")
    assert resumed.returncode == 0, resumed.stderr
    assert Leases(store).get(PAY) is None
