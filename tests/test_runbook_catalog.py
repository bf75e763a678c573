"""The runbook catalog: a file is parsed again only when it changed (the TUI reads the
catalog on every key press that opens a runner)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from console.engine import runbook_catalog
from console.engine.runbook_catalog import find_runbook, load_catalog

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
