"""The runbook catalog: a file is parsed again only when it changed (the TUI reads the
catalog on every key press that opens a runner)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from console.cli import main
from console.core.model import FailureMode
from console.engine.runbooks import catalog as runbook_catalog
from console.engine.runbooks.catalog import find_runbook, load_catalog

RB = "id: {id}\ntitle: {title}\nsteps:\n  - {{id: a, kind: note, text: hi}}\n"
LONG_AGO = 1_600_000_000


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runbook_catalog, "_PARSED", {})


def write(path: Path, text: str, mtime: int) -> None:
    path.write_text(text)
    os.utime(path, (mtime, mtime))


def test_an_unchanged_file_is_not_parsed_again_and_an_edited_one_is(tmp_path: Path) -> None:
    rb = tmp_path / "x.yaml"
    write(rb, RB.format(id="x", title="first"), LONG_AGO)
    first = load_catalog([tmp_path])[0].runbook
    again = load_catalog([tmp_path])[0].runbook
    assert first is not None and again is first  # served from the cache
    write(rb, RB.format(id="x", title="second"), LONG_AGO + 60)
    assert find_runbook("x", [tmp_path]).title == "second"


def test_a_file_written_just_now_is_read_again_each_time(tmp_path: Path) -> None:
    # Its mtime may not yet tell two quick writes apart, so it is not cached.
    rb = tmp_path / "x.yaml"
    rb.write_text(RB.format(id="x", title="one"))
    first = load_catalog([tmp_path])[0].runbook
    assert first is not None and load_catalog([tmp_path])[0].runbook is not first


def test_a_broken_file_keeps_its_located_problems(tmp_path: Path) -> None:
    rb = tmp_path / "bad.yaml"
    write(rb, "id: bad\ntitle: b\nsteps:\n  - {id: a, kind: note, txt: hi}\n", LONG_AGO)
    for _ in range(2):
        (entry,) = load_catalog([tmp_path])
        assert entry.runbook is None
        assert f"{rb}:4: steps[0].txt: unknown key" in str(entry.errors[0])


F7_RUNBOOK = """id: restart-leaking-worker
title: Restart a leaking worker
failure_modes: [F7]
steps:
  - {id: say, kind: note, text: restart it}
"""


def test_a_config_runbook_for_f7_is_linked_to_the_f7_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "team-runbooks"
    folder.mkdir()
    write(folder / "restart.yaml", F7_RUNBOOK, LONG_AGO)
    # a broken file beside it: `check` reports it; status skips it and still answers
    write(folder / "broken.yaml", "id: broken\nfailure_modes: [F7]\nsteps: 3\n", LONG_AGO)
    cfg = tmp_path / "callboard.yaml"
    cfg.write_text("runbooks: [team-runbooks]\n")
    args = ["--config", str(cfg), "--db", str(tmp_path / "cb.db"), "status", "--demo", "--json"]
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr().out
    assert exc.value.code in (0, 1, None)
    findings = [x for f in json.loads(out)["functions"] for x in f["findings"]]
    f7 = [x for x in findings if x["mode"] == "F7"]
    assert f7, "the demo fleet shows an F7 finding"
    # the shipped default first, then the team's own
    assert all(x["runbooks"] == ["resource-scale-out", "restart-leaking-worker"] for x in f7)
    assert all("restart-leaking-worker" not in x["runbooks"] for x in findings if x["mode"] != "F7")


def test_a_team_runbook_with_a_shipped_id_replaces_it(tmp_path: Path) -> None:
    # the team's resource-scale-out answers F4 instead: F7 no longer lists it
    write(
        tmp_path / "mine.yaml",
        F7_RUNBOOK.replace("restart-leaking-worker", "resource-scale-out").replace("F7", "F4"),
        LONG_AGO,
    )
    from console import paths

    table = runbook_catalog.runbooks_by_mode(paths.runbook_dirs([tmp_path]))
    assert table[FailureMode.F4] == ("cold-start-scale-up", "resource-scale-out")
    assert FailureMode.F7 not in table
