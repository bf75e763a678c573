"""A broken store file is one line naming it and what to do — never a traceback.

Bad file or path → exit 2; a failing environment (full disk, I/O) → exit 1; and what was
stored before a failed write is still there. As root, permissions are not enforced, so an
unwritable store is tested with a path under a regular file, a directory, a device, /proc
and (where ``chattr`` works) an immutable file.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from console.cli import main
from console.engine.store.sqlite import Store
from console.errors import StoreError, StoreUnavailable


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    return int(exc.value.code or 0), capsys.readouterr().err


def good_db(path: Path) -> Path:
    """A real store with one incident, checkpointed into the main file."""
    store = Store(path)
    store.execute("INSERT INTO settings VALUES ('k', '\"v\"')")
    store.close()
    code = subprocess.run(
        [sys.executable, "-m", "console.cli", "--db", str(path), "incident", "open",
         "--title", "checkout down", "--severity", "sev2", "--function", "checkout"],
        capture_output=True, text=True, check=False, timeout=120,
    ).returncode  # fmt: skip
    assert code == 0
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


def garbage(tmp: Path) -> str:
    p = tmp / "garbage.db"
    p.write_bytes(bytes(range(256)) * 32)
    return str(p)


def truncated(tmp: Path) -> str:
    p = tmp / "truncated.db"
    data = good_db(tmp / "good.db").read_bytes()
    p.write_bytes(data[: len(data) // 3])
    return str(p)


def directory(tmp: Path) -> str:
    (tmp / "dir.db").mkdir()
    return str(tmp / "dir.db")


def under_a_file(tmp: Path) -> str:
    (tmp / "afile").write_text("x")
    return str(tmp / "afile" / "callboard.db")


def other_app(tmp: Path) -> str:
    p = tmp / "other.db"
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE settings (x)")  # clashes with our first migration
    conn.close()
    return str(p)


BAD: dict[str, tuple[Callable[[Path], str], str]] = {
    "garbage": (garbage, "not a Callboard database, or damaged"),
    "truncated": (truncated, "not a Callboard database, or damaged"),
    "a directory": (directory, "is a directory"),
    "/dev/null": (lambda _: "/dev/null", "is not a regular file"),
    "under a regular file": (under_a_file, "a parent of this path is a file"),
    "/proc": (lambda _: "/proc/callboard.db", "cannot open the database"),
    "another program's database": (other_app, "not Callboard's"),
}

COMMANDS = {
    "status": ["status"],
    "incident list": ["incident", "list"],
    "incident open": [
        "incident",
        "open",
        "--title",
        "t",
        "--severity",
        "sev3",
        "--function",
        "checkout:POST /pay",
    ],
    "runs": ["runs"],
    "audit verify": ["audit", "verify"],
    "export": ["export", "INC-0001"],
    "run": ["run", "cold-start-scale-up", "--function", "checkout:POST /pay", "--dry-run"],
    "console": [],
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=list(COMMANDS))
@pytest.mark.parametrize(("make", "said"), BAD.values(), ids=list(BAD))
def test_a_bad_store_file_is_one_line_and_exit_2(
    make: Callable[[Path], str],
    said: str,
    command: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = make(tmp_path)
    before = Path(db).read_bytes() if Path(db).is_file() else None
    code, err = run(["--demo", "--db", db, *command], capsys)
    assert code == 2, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == [err.strip().splitlines()[-1]] and errors[0].startswith(f"error: {db}: ")
    assert "Traceback" not in err
    assert said in err and "--db" in err
    if before is not None:
        assert Path(db).read_bytes() == before  # a bad file is reported, never rewritten


def test_an_immutable_store_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = good_db(tmp_path / "imm.db")
    chattr = shutil.which("chattr")
    assert chattr, "chattr (e2fsprogs) is needed"
    if subprocess.run([chattr, "+i", str(db)], capture_output=True, check=False).returncode:
        pytest.skip("this file system does not support immutable files")
    try:
        code, err = run(
            ["--db", str(db), "incident", "open", "--title", "t", "--severity", "sev3",
             "--function", "f"], capsys,
        )  # fmt: skip
    finally:
        subprocess.run([chattr, "-i", str(db)], check=True)
    assert code == 2
    assert f"error: {db}: the database cannot be written" in err


def test_a_full_disk_mid_write_keeps_what_was_stored(tmp_path: Path) -> None:
    db = tmp_path / "full.db"
    store = Store(db)
    store.execute("INSERT INTO settings VALUES ('before', 'kept')")
    pages = int(store.query("PRAGMA page_count")[0][0])
    store.close()
    full = Store(db, max_pages=pages + 2)  # room for a row or two, then SQLITE_FULL
    with pytest.raises(StoreUnavailable) as exc, full.transaction() as conn:
        for i in range(1000):
            conn.execute("INSERT INTO settings VALUES (?, ?)", (f"k{i}", "x" * 4000))
    assert str(exc.value).startswith(f"{db}: the disk is full; free space")
    assert exc.value.exit_code == 1
    kept = full.query("SELECT key, value FROM settings")
    assert [tuple(r) for r in kept] == [("before", "kept")]  # nothing of the failed one
    full.close()


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (96 * 1024, 96 * 1024))


def test_a_write_the_disk_refuses_is_exit_1_and_loses_nothing(tmp_path: Path) -> None:
    """The CLI on a disk that refuses writes (RLIMIT_FSIZE): exit 1, earlier rows intact."""
    db = good_db(tmp_path / "fs.db")
    note = "x" * 120_000  # more than the 96 KiB a file may grow to
    proc = subprocess.run(
        [sys.executable, "-m", "console.cli", "--db", str(db), "incident", "note", "INC-0001", note],
        capture_output=True, text=True, check=False, timeout=120, preexec_fn=_limit_file_size,
        env={**os.environ, "CALLBOARD_LOG_FILE": os.devnull},
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith(f"error: {db}: ") and "Traceback" not in proc.stderr
    assert "free space" in proc.stderr
    rows = sqlite3.connect(db).execute("SELECT title FROM incidents").fetchall()
    assert rows == [("checkout down",)]


def test_store_errors_are_typed() -> None:
    assert issubclass(StoreError, Exception) and StoreError.exit_code == 2
    assert StoreUnavailable.exit_code == 1
