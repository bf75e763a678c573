"""The headless drill's script format: keys, typed text and bounded waits, each bad line
named at file:line."""

from __future__ import annotations

import pytest

from console.core.drill_script import ScriptError, parse_script


def test_keys_text_and_waits() -> None:
    script = parse_script(
        "# a comment\n\nwait: page\nenter   # look\ntype: rolled back # not a comment\n"
        "wait: screen runner\nwait: text Enter: run for real\nwait: 30s\nwait: run\nR\n"
    )
    assert [(a.kind, a.condition, a.arg, a.line) for a in script] == [
        ("wait", "page", "", 3),
        ("key", "", "enter", 4),
        ("type", "", "rolled back # not a comment", 5),
        ("wait", "screen", "runner", 6),
        ("wait", "text", "Enter: run for real", 7),
        ("wait", "seconds", "30s", 8),
        ("wait", "run", "", 9),
        ("key", "", "R", 10),
    ]
    assert script[5].seconds == 30.0


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("wait: forever", "wait: expected finding, page, run, screen NAME"),
        ("wait: screen nowhere", "wait: expected"),
        ("press enter please", "expected a key"),
        ("type:", "type: expected printable text"),
        ("type: a\x1b[31mred", "type: expected printable text"),
    ],
)
def test_a_bad_line_is_named_at_file_and_line(line: str, says: str) -> None:
    with pytest.raises(ScriptError) as exc:
        parse_script(f"enter\n{line}\n", "drill.keys")
    assert str(exc.value).startswith("drill.keys:2: ") and says in str(exc.value)


def test_a_huge_script_is_refused() -> None:
    with pytest.raises(ScriptError, match="at most 2000"):
        parse_script("enter\n" * 2001)
