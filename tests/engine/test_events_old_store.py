"""A store written before the event schema still verifies and exports byte for byte the same.

``tests/stores/main-518581d`` holds the SQL dump of a store written by the code at 518581d
(bare kind strings) and that code's exports of both incidents (see its README).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from console.engine.incidents.export import FORMATS, export_incident
from console.engine.store.events import EventLog
from console.engine.store.sqlite import Store

OLD = Path(__file__).parents[1] / "stores" / "main-518581d"
NOW = "2026-12-03T19:00:00.000Z"


@pytest.fixture
def old_store(tmp_path: Path) -> Store:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.executescript((OLD / "store.sql").read_text(encoding="utf-8"))
    conn.close()
    return Store(db)


def test_the_chain_written_by_the_old_code_verifies(old_store: Store) -> None:
    result = EventLog(old_store).verify()
    assert result.ok, result.reason
    assert result.checked == 43


def test_new_events_chain_on_after_the_old_ones(old_store: Store) -> None:
    from console.engine.incidents.lifecycle import add_note

    add_note(old_store, "INC-0002", "written by the new code")
    result = EventLog(old_store).verify()
    assert result.ok and result.checked == 44


@pytest.mark.parametrize("incident", ["INC-0001", "INC-0002"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_export_reads_as_the_old_code_wrote_it(
    old_store: Store, incident: str, fmt: str
) -> None:
    expected = (OLD / f"{incident}.{fmt}").read_text(encoding="utf-8")
    assert export_incident(old_store, incident, fmt, now=NOW) == expected
