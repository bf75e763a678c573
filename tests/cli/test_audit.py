"""``callboard audit verify``: any edit, deletion or reordering of a stored event is named."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from console.cli import main
from console.engine.incidents.lifecycle import add_note, open_incident
from console.engine.store.base import StoreLike
from console.engine.store.events import EventLog, NewEvent, body_text, canonical_json
from console.engine.store.sqlite import Store

COLUMNS = "id, at, kind, actor, incident_id, run_id, function_id, data, prev_hash, hash"


def verify(capsys: pytest.CaptureFixture[str], db: str) -> tuple[int, dict, str]:
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(db), "audit", "verify", "--json"])
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), json.loads(out), err


@pytest.fixture
def db(store_url: str, stores: Callable[[], StoreLike]) -> str:
    """Ten chained events: an incident, notes, a run with an intent and a result (on each
    engine: the file or the URL)."""
    path = store_url
    store = stores()
    inc = open_incident(store, "Pay failing", ["checkout:POST /pay"])
    for n in range(5):
        add_note(store, inc.id, f"note {n}")
    EventLog(store).append_many([
        NewEvent("run.started", {"runbook": "r"}, inc.id, "run1"),
        NewEvent("step.intent", {"step": "a", "kind": "action"}, inc.id, "run1"),
        NewEvent("step.result", {"step": "a", "status": "done"}, inc.id, "run1"),
        NewEvent("run.ended", {"status": "succeeded"}, inc.id, "run1"),
    ])  # fmt: skip
    store.close()
    return path


@pytest.fixture
def tamper_with(stores: Callable[[], StoreLike]) -> Callable[[], AbstractContextManager[Any]]:
    """A transaction on the stored rows, past the event log (what an attacker would do)."""
    return lambda: stores().transaction()


@pytest.fixture
def ids(stores: Callable[[], StoreLike]) -> Callable[[], dict[int, str]]:
    return lambda: dict(stores().tuples("SELECT seq, id FROM events"))


def test_an_intact_chain_verifies(
    capsys: pytest.CaptureFixture[str],
    db: str,
    tamper_with: Callable[[], AbstractContextManager[Any]],
) -> None:
    rc, out, _ = verify(capsys, db)
    assert rc == 0 and out["ok"] is True and out["checked"] == 10 and out["bad_event"] is None


def _edit(column: str, value: object) -> Callable[[Any], None]:
    def run(conn: Any) -> None:
        conn.execute(f"UPDATE events SET {column} = ? WHERE seq = 4", (value,))

    return run


@pytest.mark.parametrize(
    "tamper",
    [
        _edit("data", '{"text":"nothing happened"}'),
        _edit("data", '{"text": "note 2"}'),  # same meaning, other bytes
        _edit("at", "2020-01-01T00:00:00.000Z"),
        _edit("actor", "mallory"),
        _edit("kind", "note.deleted"),
        _edit("incident_id", "INC-0002"),
        _edit("run_id", "run9"),
        _edit("function_id", "other:op"),
        _edit("hash", "f" * 64),
    ],
    ids=["data", "data-reformatted", "at", "actor", "kind", "incident", "run", "function", "hash"],
)
def test_an_edited_row_is_named(
    capsys: pytest.CaptureFixture[str],
    db: str,
    tamper: Callable[[Any], None],
    tamper_with: Callable[[], AbstractContextManager[Any]],
    ids: Callable[[], dict[int, str]],
) -> None:
    before = ids()
    with tamper_with() as conn:
        tamper(conn)
    rc, out, _ = verify(capsys, db)
    assert rc == 1 and out["ok"] is False
    assert out["bad_event"] == {"seq": 4, "id": before[4]}
    assert out["checked"] == 3


def test_a_deleted_row_is_named(
    capsys: pytest.CaptureFixture[str],
    db: str,
    tamper_with: Callable[[], AbstractContextManager[Any]],
) -> None:
    with tamper_with() as conn:
        conn.execute("DELETE FROM events WHERE seq = 6")
    rc, out, _ = verify(capsys, db)
    assert rc == 1 and out["bad_event"]["seq"] == 6 and "removed" in out["reason"]


def test_deleting_the_last_rows_is_caught(
    capsys: pytest.CaptureFixture[str],
    db: str,
    tamper_with: Callable[[], AbstractContextManager[Any]],
) -> None:
    with tamper_with() as conn:
        conn.execute("DELETE FROM events WHERE seq >= 9")
    rc, out, _ = verify(capsys, db)
    assert rc == 1 and out["bad_event"]["seq"] == 9 and "removed" in out["reason"]


def test_swapped_rows_are_named(
    capsys: pytest.CaptureFixture[str],
    db: str,
    tamper_with: Callable[[], AbstractContextManager[Any]],
    ids: Callable[[], dict[int, str]],
) -> None:
    before = ids()
    with tamper_with() as conn:
        a = conn.execute(f"SELECT {COLUMNS} FROM events WHERE seq = 5").fetchone()
        b = conn.execute(f"SELECT {COLUMNS} FROM events WHERE seq = 7").fetchone()
        sets = ", ".join(f"{c.strip()} = ?" for c in COLUMNS.split(","))
        conn.execute("UPDATE events SET id = 'tmp' WHERE seq = 5")
        conn.execute(f"UPDATE events SET {sets} WHERE seq = 7", a)
        conn.execute(f"UPDATE events SET {sets} WHERE seq = 5", b)
    rc, out, _ = verify(capsys, db)
    assert rc == 1 and out["bad_event"] == {"seq": 5, "id": before[7]}


def test_renumbered_rows_are_caught(
    capsys: pytest.CaptureFixture[str],
    db: str,
    tamper_with: Callable[[], AbstractContextManager[Any]],
) -> None:
    with tamper_with() as conn:  # move event 3 to the end
        conn.execute("UPDATE events SET seq = 100 WHERE seq = 3")
    rc, out, _ = verify(capsys, db)
    assert rc == 1 and out["bad_event"]["seq"] == 3


def test_text_output_names_the_event(
    capsys: pytest.CaptureFixture[str],
    db: str,
    tamper_with: Callable[[], AbstractContextManager[Any]],
    ids: Callable[[], dict[int, str]],
) -> None:
    bad = ids()[2]
    with tamper_with() as conn:
        conn.execute("UPDATE events SET data = '{}' WHERE seq = 2")
    with pytest.raises(SystemExit) as exc:
        main(["--db", db, "audit", "verify"])
    err = capsys.readouterr().err
    assert exc.value.code == 1 and "#2" in err and bad in err and "altered" in err


def test_stored_hash_covers_the_canonical_event(tmp_path: Path) -> None:
    """The fast verify hashes what ``canonical_json(event.body())`` always hashed."""
    ev = EventLog(Store(":memory:")).append(
        NewEvent("x", {"b": {10: 1, 9: 2}, "é": "ü", "n": None})
    )
    text = body_text(ev.seq, ev.id, ev.at, ev.kind, ev.actor, ev.incident_id, ev.run_id,
                     ev.function_id, canonical_json(ev.data))  # fmt: skip
    assert text == canonical_json(ev.body())
