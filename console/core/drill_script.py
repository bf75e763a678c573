"""The headless drill script: what a trainee presses, one line at a time (pure).

``callboard drill --headless --script FILE`` plays a file like this::

    # the README's 3 a.m. drill
    wait: finding          # until something on the fleet shows a finding
    wait: page             # until something pages (a finding of severity page)
    enter                  # a key, as Textual names it: enter, tab, escape, r, R, t, ...
    wait: screen function  # until that screen is on top (function, traces, runner, ...)
    type: rolled back      (the rest of the line, typed into the focused input: one key)
    wait: text Enter: run for real    # until the screen shows this text
    wait: run              # until the runner's run (or dry run) has finished
    wait: 30s              # let 30 seconds pass on the drill's clock

Blank lines and ``#`` comments are skipped. Each key costs a second on a headless drill's
simulated clock, and a refresh waited for (``finding``, ``page``) fifteen, so its times are
reproducible. A bad line is a :class:`ScriptError`
naming ``file:line``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from console.errors import UserError

__all__ = ["SCREENS", "Action", "ScriptError", "parse_script"]

#: The screen names ``wait: screen NAME`` knows.
SCREENS = ("fleet", "function", "traces", "waterfall", "runner", "timeline", "scorecard")
#: The longest script read (lines, bytes): a drill is tens of keys, not thousands.
MAX_LINES = 2000
MAX_BYTES = 256 * 1024
_KEY = re.compile(r"^[A-Za-z0-9_+\-]{1,24}$|^.$")
_SECONDS = re.compile(r"^(\d{1,5})(?:\.\d+)?s$")


class ScriptError(UserError):
    """A drill script line that cannot be played (exit 2)."""


@dataclass(frozen=True, slots=True)
class Action:
    """One line of a script: ``key`` (a key name), ``type`` (text), or ``wait`` with its
    condition (``finding``, ``page``, ``run``, ``screen``, ``text``, ``seconds``) and argument."""

    kind: str
    arg: str
    line: int
    condition: str = ""

    @property
    def seconds(self) -> float:
        """A ``wait: Ns`` line's seconds."""
        return float(self.arg[:-1])


def _wait(text: str, where: str, line: int) -> Action:
    word, _, rest = text.partition(" ")
    rest = rest.strip()
    if word in ("finding", "page", "run") and not rest:
        return Action("wait", "", line, word)
    if word == "screen" and rest in SCREENS:
        return Action("wait", rest, line, "screen")
    if word == "text" and rest:
        return Action("wait", rest, line, "text")
    if _SECONDS.match(word) and not rest:
        return Action("wait", word, line, "seconds")
    raise ScriptError(
        f"{where}:{line}: wait: expected finding, page, run, screen NAME ({', '.join(SCREENS)}), "
        f"text TEXT or a number of seconds like 30s, got {text!r}"
    )


def parse_script(text: str, where: str = "script") -> list[Action]:
    """The actions of a script. Raises ScriptError at the first bad line (file:line)."""
    lines = text.splitlines()
    if len(lines) > MAX_LINES:
        raise ScriptError(f"{where}: {len(lines)} lines; a drill script has at most {MAX_LINES}")
    out: list[Action] = []
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if line.startswith("type:"):
            value = raw.split("type:", 1)[1].strip()
            if not value or not value.isprintable():
                raise ScriptError(f"{where}:{n}: type: expected printable text to type")
            out.append(Action("type", value, n))
            continue
        line = line.split(" #", 1)[0].strip() if not line.startswith("#") else ""
        if not line:
            continue
        if line.startswith("wait:"):
            out.append(_wait(line[5:].strip(), where, n))
        elif _KEY.match(line):
            out.append(Action("key", line, n))
        else:
            raise ScriptError(
                f"{where}:{n}: expected a key (enter, tab, r, ...), type: TEXT or wait: ..., "
                f"got {line!r}"
            )
    return out
