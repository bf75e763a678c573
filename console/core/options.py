"""Plugin options, declared once and checked by one checker; the wording every config and
runbook check shares ("got ...", "did you mean ...").

A plugin class declares ``OPTIONS``: a tuple of :class:`Option` (name, type, help,
required, default, choices), as harlequin's adapters declare theirs. :func:`problems` checks
a backend's keys against them — unknown keys (with a suggestion), missing required ones,
values of the wrong type or outside the choices — and says each in the words an operator
reads at ``file:line``. The engine runs it before a plugin is built (each problem located at
its key's line); a plugin runs :func:`check_options` first thing in its constructor, so one
built directly (a test, a script) gets the same answer. Deeper checks (one webhook
endpoint's fields, a custom query's placeholders) stay in the plugin, raised as
``ConfigError``. Pure: no I/O.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from console.core.durations import parse_duration
from console.errors import ConfigError

#: The types an option may declare, and how a wrong value is told.
TYPES: Mapping[str, str] = {
    "str": "expected text",
    "int": "expected a whole number",
    "float": "expected a number",
    "bool": "expected true or false",
    "list": "expected a list",
    "dict": "expected a mapping",
    "duration": "expected a duration like 30s, 5m, 24h or 7d",
    "url": "expected an http:// or https:// URL",
    "secret": "expected text or {secret: NAME}",
    "str|list": "expected text or a list of text",
    "any": "",
}


def describe(value: object) -> str:
    """How a wrong value is shown after "got": ``3``, ``'abc'``, ``a list``, ``nothing``."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, int | float):
        return repr(value)
    return f"a {type(value).__name__}"


def is_number(value: object) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def suggest(word: object, known: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for a near miss, else ``" (expected one of: ...)"``."""
    known = list(known)
    close = difflib.get_close_matches(str(word), known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (expected one of: {', '.join(known)})"


@dataclass(frozen=True)
class Option:
    """One config key of a plugin, declared once in the plugin class's ``OPTIONS``.

    Attributes:
        name: the key, as written in the config file.
        type: one of :data:`TYPES` (``duration``: a number of seconds or ``30s``/``5m``;
            ``secret``: text or ``{secret: NAME}``; ``url``: ``http(s)://...``).
        help: what the key means, in the words an error quotes.
        required: the backend cannot be built without it.
        default: the value the plugin uses when the key is absent (shown in the docs; the
            plugin applies it).
        choices: the accepted values, when there is a fixed set.
    """

    name: str
    type: str
    help: str
    required: bool = False
    default: Any = None
    choices: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"option {self.name}: unknown type {self.type!r}")


#: Keys the engine reads from every backend before its plugin sees the rest.
COMMON_OPTIONS: tuple[Option, ...] = (
    Option("timeout", "duration", "the budget of each call to this backend, e.g. 5s"),
)


def _secret_ref(value: object) -> bool:
    return isinstance(value, Mapping) and len(value) == 1 and isinstance(value.get("secret"), str)


def _fits(kind: str, value: object) -> bool:
    if kind == "any":
        return True
    if kind in ("str", "secret"):  # a secret reference resolves to text
        return (isinstance(value, str) and bool(value.strip())) or _secret_ref(value)
    if kind == "int":  # digits in quotes too: YAML users quote numbers
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and value.strip().lstrip("-").isdigit()
        )
    if kind == "float":
        return is_number(value)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list | tuple)
    if kind == "dict":
        return isinstance(value, Mapping)
    if kind == "str|list":
        if not isinstance(value, list | tuple):
            return isinstance(value, str) and bool(value.strip())
        return bool(value) and all(
            (isinstance(v, str) and v.strip()) or is_number(v) for v in value
        )
    if kind == "url":  # a secret may hold a URL with credentials in it
        return (isinstance(value, str) and value.startswith(("http://", "https://"))) or (
            _secret_ref(value)
        )
    try:  # duration
        parse_duration(value)
    except (ValueError, TypeError):
        return False
    return True


def problems(
    declared: Sequence[Option], values: Mapping[str, Any]
) -> list[tuple[tuple[Hashable, ...], str]]:
    """Every problem of ``values`` against ``declared`` (plus :data:`COMMON_OPTIONS`), as
    ``(key path, message)`` in key order; ``[]`` when they are fine."""
    known = {o.name: o for o in (*COMMON_OPTIONS, *declared)}
    out: list[tuple[tuple[Hashable, ...], str]] = []
    for need in known.values():
        if need.required and values.get(need.name) is None:
            out.append(((), f"{need.name}: required — {need.help}"))
    for key, value in values.items():
        option = known.get(str(key))
        if option is None:
            names = [o.name for o in (*declared, *COMMON_OPTIONS)]
            out.append(((key,), f"unknown option {str(key)!r}{suggest(key, names)}"))
        elif value is None and not option.required:
            continue  # written but empty: the default applies
        elif option.choices and value not in option.choices:
            shown = ", ".join(str(c) for c in option.choices)
            out.append(((key,), f"{key}: expected one of: {shown}, got {describe(value)}"))
        elif value is not None and not _fits(option.type, value):
            hint = f" ({option.help})" if option.type not in ("bool", "duration") else ""
            out.append(((key,), f"{key}: {TYPES[option.type]}{hint}, got {describe(value)}"))
    return out


class OptionError(ConfigError, ValueError):
    """A plugin's options do not fit what it declares (a ``ConfigError``; also a
    ``ValueError``, what a plugin built directly has always raised for bad options)."""


def check_options(plugin: str, declared: Sequence[Option], values: Mapping[str, Any]) -> None:
    """Raise :class:`OptionError` naming every problem of ``values`` (see :func:`problems`).

    Args:
        plugin: the plugin's name, first in the message (``demo: unknown option ...``).
    """
    found = problems(declared, values)
    if found:
        raise OptionError(f"{plugin}: " + "; ".join(message for _, message in found))
