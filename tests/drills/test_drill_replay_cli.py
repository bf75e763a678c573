"""``callboard drill --replay INC-ID``: a drill played on the replay of an incident the tests
recorded through the real engine — the hidden failures are the recorded ones, found on the
functions they showed on, and the scorecard comes from the drill's own events."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from console.cli import main
from console.engine.store.sqlite import Store
from tests.engine.test_replay import _record


def test_a_drill_on_the_replay_of_a_recorded_incident(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "recorded.db"
    store = Store(db)
    try:
        incident = asyncio.run(_record(store))
    finally:
        store.close()
    script = tmp_path / "look.keys"
    script.write_text(
        "wait: finding\nhome\nenter\nwait: screen function\nescape\nq\nwait: screen scorecard\n",
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(db), "drill", "--replay", incident, "--headless", "--script",
              str(script), "--actor", "maya"])  # fmt: skip
    out = capsys.readouterr()
    assert exc.value.code in (0, None), out.err
    card = json.loads(out.out)
    # the recorded failures, on the functions they showed on that night
    assert set(card["functions"]) >= {"F1", "F9"}, card
    assert card["functions"]["F1"] == "checkout:POST /pay"
    assert card["ended"] == "quit" and not card["verified"]
    assert card["detect_s"] is not None  # a failing function's screen was opened
    assert card["wrong_moves"] == []
