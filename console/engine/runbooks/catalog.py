"""Where runbooks are found: the shipped ``runbooks/`` folder, the user's, the config's.

A later folder's runbook with the same id replaces an earlier one (a team may override a
shipped runbook). Files are ``*.yaml`` / ``*.yml``; anything else (``schema.json``) is
ignored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from console.core.diagnose import DEFAULT_RUNBOOKS
from console.core.model import FailureMode
from console.core.runbook import Runbook, load_runbook
from console.errors import ConfigError, ConfigErrors, UserError

__all__ = ["Entry", "find_runbook", "load_catalog", "runbook_files", "runbooks_by_mode"]

log = logging.getLogger("callboard.runbooks")

#: Runbook files read per folder at most (a guard against pointing at a huge tree).
MAX_FILES = 2000


@dataclass
class Entry:
    """One runbook file: its runbook, or the problems that stop it parsing."""

    path: Path
    runbook: Runbook | None
    errors: list[ConfigError] = field(default_factory=list)
    shipped: bool = False


def runbook_files(folder: Path) -> list[Path]:
    """The runbook files directly in ``folder``, sorted by name (none if it is missing)."""
    if not folder.is_dir():
        return []
    found = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return found[:MAX_FILES]


#: Parsed files by path: (mtime_ns, size, ctime_ns) when read, and what they held.
_PARSED: dict[Path, tuple[tuple[int, int, int], Runbook | None, list[ConfigError]]] = {}
_LOCK = threading.Lock()
#: A file changed this recently is parsed again next time: its mtime may not yet tell
#: two writes apart (timestamps are coarser than the writes; git calls this "racily clean").
RACY_NS = 2_000_000_000


def parse_file(path: Path) -> tuple[Runbook | None, list[ConfigError]]:
    """One file's runbook or problems, from the cache while its mtime and size hold."""
    try:
        st = path.stat()
        stamp: tuple[int, int, int] | None = (st.st_mtime_ns, st.st_size, st.st_ctime_ns)
    except OSError:
        stamp = None
    with _LOCK:
        hit = _PARSED.get(path)
    if stamp is not None and hit is not None and hit[0] == stamp:
        return hit[1], hit[2]
    try:
        found: tuple[Runbook | None, list[ConfigError]] = (load_runbook(path), [])
    except ConfigErrors as exc:
        found = (None, list(exc.errors))
    except ConfigError as exc:
        found = (None, [exc])
    if stamp is not None and time.time_ns() - stamp[0] > RACY_NS:
        with _LOCK:
            _PARSED[path] = (stamp, *found)
    return found


def load_catalog(dirs: Iterable[Path], shipped: Path | None = None) -> list[Entry]:
    """Every runbook file in ``dirs``, in folder order, parsed (problems kept, not raised).

    A file is parsed again only when its mtime, size or ctime changed (the TUI opens a
    runner per key press; the CLI reads each file once).
    """
    entries: list[Entry] = []
    for folder in dirs:
        is_shipped = shipped is not None and folder.resolve() == shipped.resolve()
        for path in runbook_files(folder):
            runbook, errors = parse_file(path)
            entries.append(Entry(path, runbook, list(errors), shipped=is_shipped))
    return entries


def runbooks_by_mode(dirs: Iterable[Path]) -> dict[FailureMode, tuple[str, ...]]:
    """Failure mode -> the ids of the catalog's runbooks that declare it, for diagnosis.

    A later folder's runbook replaces an earlier one with the same id. Per mode, the shipped
    default ids (``DEFAULT_RUNBOOKS``) come first, then the others, sorted. A file that does
    not parse, or a folder that cannot be read, is skipped here (``callboard check`` reports
    it): a finding simply does not link to it.
    """
    effective: dict[str, Runbook] = {}
    for folder in dirs:
        try:
            entries = load_catalog([folder])
        except OSError as exc:
            log.warning("runbooks: cannot read %s: %s", folder, exc)
            continue
        for entry in entries:
            if entry.runbook is not None:
                effective[entry.runbook.id] = entry.runbook
    declared: dict[FailureMode, set[str]] = {}
    for rb_id, rb in effective.items():
        for mode in rb.failure_modes:
            declared.setdefault(mode, set()).add(rb_id)
    table: dict[FailureMode, tuple[str, ...]] = {}
    for mode in FailureMode:
        ids = declared.get(mode, set())
        first = tuple(i for i in DEFAULT_RUNBOOKS.get(mode, ()) if i in ids)
        rest = tuple(sorted(ids.difference(first)))
        if first or rest:
            table[mode] = first + rest
    return table


def find_runbook(ref: str, dirs: Iterable[Path]) -> Runbook:
    """The runbook ``ref`` names: a path to a file, or an id in the catalog.

    Raises:
        ConfigErrors: the runbook is invalid (every problem, located).
        UserError: no such file or id.
    """
    candidate = Path(ref).expanduser()
    if candidate.suffix in (".yaml", ".yml") or "/" in ref:
        if not candidate.is_file():
            raise UserError(f"runbook file not found: {ref}")
        return load_runbook(candidate)
    match: Entry | None = None
    known: list[str] = []
    for entry in load_catalog(dirs):
        rb_id = entry.runbook.id if entry.runbook else entry.path.stem
        known.append(rb_id)
        if rb_id == ref:
            match = entry  # the last folder wins
    if match is None:
        raise UserError(f"no runbook {ref!r} (known: {', '.join(sorted(set(known))) or 'none'})")
    if match.runbook is None:
        raise ConfigErrors(match.errors)
    return match.runbook
