"""The event schema holds: writers build events only through console.core.events, every kind
has a constructor and a timeline line, and nothing outside the store reaches into it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from console.core import events
from console.core.events import EventKind
from console.core.timeline import summarize

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "console" / "core" / "events.py"
#: Calls that write an event (EventLog's methods, the run recorder's and the recorder's helpers).
WRITERS = {"NewEvent", "append", "append_many", "write", "bulk_append", "_event", "add"}
#: What an event kind looks like, written or not (``action.intent`` included).
KIND_LIKE = re.compile(r"^(incident|status|finding|alert|deploy|signals|run|step|action|verify|"
                       r"annotation)\.[a-z_]+$")  # fmt: skip
KINDS = {k.value for k in EventKind}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def bare_kinds(source: str, where: str) -> list[str]:
    """Every writer call in ``source`` given a kind as a string literal, or NewEvent by hand."""
    found = []
    for node in ast.walk(ast.parse(source, filename=where)):
        if not isinstance(node, ast.Call) or _name(node.func) not in WRITERS:
            continue
        if _name(node.func) == "NewEvent":
            found.append(f"{where}:{node.lineno}: NewEvent(...) by hand")
            continue
        for arg in (*node.args, *(k.value for k in node.keywords)):
            text = arg.value if isinstance(arg, ast.Constant) else None
            if isinstance(text, str) and (text in KINDS or KIND_LIKE.match(text)):
                found.append(f"{where}:{node.lineno}: {text!r}")
    return found


def test_writers_build_events_only_through_the_schema() -> None:
    sources = [p for top in ("console", "plugins") for p in sorted((ROOT / top).rglob("*.py"))]
    hits = [
        hit
        for p in sources
        if p != SCHEMA
        for hit in bare_kinds(p.read_text(), str(p.relative_to(ROOT)))
    ]
    assert hits == []


def test_the_check_catches_a_bare_kind() -> None:
    bad = 'log.append("note", {"text": "x"})\nself._event(r, "step.intent", {})\nNewEvent(k)\n'
    assert len(bare_kinds(bad, "bad.py")) == 3


def test_every_kind_has_a_constructor_and_its_own_timeline_line() -> None:
    for kind in EventKind:
        assert callable(getattr(events, kind.name.lower())), kind
        assert not summarize(kind, {}).startswith(f"{kind.value}:"), kind  # not the generic line


def test_constructors_write_the_kind_and_the_payload_readers_expect() -> None:
    sig = {"checkout:POST /pay": {"error_rate": 0.1}}
    new = events.note("psp slow", signals=sig).on(incident_id="INC-0001", at="2026-01-01T00:00:00Z")
    assert (new.kind, new.data, new.incident_id) == (
        "note", {"text": "psp slow", "signals": sig}, "INC-0001")  # fmt: skip
    assert events.run_cancelled(in_step="rollback").data == {"in": "rollback"}
    assert events.run_cancelled(before="rollback").data == {"before": "rollback"}
    assert events.step_refused("s", "read-only").data == {"step": "s", "reason": "read-only"}
    assert summarize(new.kind, new.data) == "Note: psp slow"


def test_nothing_outside_the_store_touches_its_lock_or_connection() -> None:
    private = re.compile(r"store\)?\.(_lock|_conn|conn)\b")
    allowed = {ROOT / "console" / "engine" / "store.py", ROOT / "tests" / "test_store_faults.py",
               Path(__file__).resolve()}  # fmt: skip
    hits = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for top in ("console", "plugins", "tests", "bench", "scripts")
        for p in sorted((ROOT / top).rglob("*.py"))
        if p not in allowed
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if private.search(line)
    ]
    assert hits == []


def test_a_kind_no_writer_writes_reads_generically() -> None:
    """``action.intent``/``verify.result`` were never written (git history: only test data
    had them); like any unknown kind they show every field instead of vanishing."""
    line = summarize("action.intent", {"action": "circuit_open", "step": "breaker"})
    assert line == "action.intent: action=circuit_open, step=breaker"
