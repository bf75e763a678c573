"""Runbook params and substitution: typed values in, exactly one string or argv element out.

A placeholder is ``{{ name }}`` (a param), ``{{ function.id }}`` (and ``.service``,
``.operation``, ``.owner``, ``.oncall``, ``.tier``, ``.kind``) or ``{{ secrets.NAME }}``.
There is no template logic: a placeholder is replaced by its value's text inside the one
string it sits in, so a param holding ``x; touch pwned`` stays one literal argument. A
string command is split with :mod:`shlex` *before* substitution (placeholders are shielded
from the split), so a value can never add argv elements.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from console.core.durations import parse_duration
from console.core.model import Function
from console.errors import UserError

#: The types a param may have.
PARAM_TYPES = ("string", "int", "float", "bool", "duration", "enum", "function")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


#: Runbook durations parse like every other duration (config, SLO windows).
parse_seconds = parse_duration
_UNITS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


class Duration(float):
    """A ``duration`` param's value: seconds (it compares and checks limits as a number),
    written as a canonical duration (``20m``, ``90s``, ``250ms``) wherever it becomes text,
    so an action receives ``"20m"``, never ``1200.0``."""

    __slots__ = ()

    def __str__(self) -> str:
        return format_duration(self)

    def __repr__(self) -> str:
        return f"Duration({format_duration(self)!r})"


def format_duration(seconds: float) -> str:
    """``1200`` → ``"20m"``, ``90`` → ``"90s"``, ``0.25`` → ``"250ms"``: the largest unit
    that divides it exactly, which :func:`~console.core.durations.parse_duration` reads back."""
    if seconds > 0 and float(seconds).is_integer():
        whole = int(seconds)
        for unit, size in _UNITS:
            if whole % size == 0:
                return f"{whole // size}{unit}"
    ms = seconds * 1000
    if float(ms).is_integer():
        return f"{int(ms)}ms"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class Param:
    """One typed runbook param."""

    name: str
    type: str = "string"
    description: str = ""
    #: None with ``required`` false means the param is optional and empty.
    default: Any = None
    required: bool = True
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    choices: tuple[str, ...] = ()
    line: int | None = None
    #: ``evidence.<fact>``: prefilled from the finding's fact (``Finding.facts``) when the
    #: runner is opened for one; None: no prefill.
    source: str | None = None


def from_evidence(params: Sequence[Param], facts: Mapping[str, str]) -> dict[str, str]:
    """Param name → the finding's fact each ``from: evidence.<fact>`` param names (those
    the finding has)."""
    out: dict[str, str] = {}
    for p in params:
        if p.source and p.source.startswith("evidence."):
            value = facts.get(p.source[len("evidence.") :])
            if value:
                out[p.name] = value
    return out


def coerce(param: Param, raw: object, functions: frozenset[str] | None = None) -> Any:
    """``raw`` (a CLI string or a YAML value) as ``param``'s type, checked against its limits.

    Args:
        functions: known function ids, for ``function`` params (None: not checked).

    Raises:
        ValueError: a human sentence saying what was expected.
    """
    t = param.type
    value: Any
    if t == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise ValueError(f"expected true or false, got {raw!r}")
    if t in ("int", "float", "duration"):
        try:
            if t == "duration":
                value = Duration(parse_seconds(raw))
            elif isinstance(raw, bool):
                raise ValueError
            elif t == "int":
                value = int(str(raw).strip()) if not isinstance(raw, int) else raw
            else:
                value = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            what = {
                "int": "a whole number",
                "float": "a number",
                "duration": "a duration like 30s or 5m",
            }
            raise ValueError(f"expected {what[t]}, got {raw!r}") from None
        if not math.isfinite(value):  # NaN or ±inf: no limit or rate can be infinite
            raise ValueError(f"expected a finite number, got {raw!r}")
        if param.min is not None and value < param.min:
            raise ValueError(f"must be at least {param.min:g}, got {value!r}")
        if param.max is not None and value > param.max:
            raise ValueError(f"must be at most {param.max:g}, got {value!r}")
        return value
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise ValueError(f"expected text, got {raw!r}")
    text = str(raw)
    if t == "enum" and text not in param.choices:
        raise ValueError(f"expected one of {', '.join(param.choices)}, got {text!r}")
    if t == "function" and functions is not None and text not in functions:
        raise ValueError(f"no function {text!r} in the fleet")
    if param.pattern is not None and re.fullmatch(param.pattern, text) is None:
        raise ValueError(f"must match {param.pattern!r}, got {text!r}")
    return text


__all__ = [
    "FUNCTION_FIELDS",
    "PARAM_TYPES",
    "PLACEHOLDER",
    "Duration",
    "Param",
    "Scope",
    "coerce",
    "fill",
    "fill_obj",
    "fill_url",
    "format_duration",
    "placeholders",
    "resolve_params",
    "split_command",
]

#: ``{{ name }}``: letters, digits, ``_``, ``-`` and dots, spaces inside the braces allowed.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
_OPEN = re.compile(r"\{\{")
FUNCTION_FIELDS = ("id", "service", "operation", "owner", "oncall", "tier", "kind")
#: Private-use characters stand in for placeholders while shlex splits a command string.
_SHIELD_L, _SHIELD_R = "\ue000", "\ue001"


def resolve_params(
    params: Sequence[Param], given: Mapping[str, object], functions: frozenset[str] | None = None
) -> dict[str, Any]:
    """Every param's value: given (coerced), else its default; optional ones may be None.

    Raises:
        UserError: every problem at once (unknown names, missing required, bad values).
    """
    names = [p.name for p in params]
    problems = [
        f"unknown param {k!r} (this runbook takes: {', '.join(names) or 'no params'})"
        for k in given
        if k not in names
    ]
    out: dict[str, Any] = {}
    for p in params:
        if p.name in given:
            try:
                out[p.name] = coerce(p, given[p.name], functions)
            except ValueError as exc:
                problems.append(f"param {p.name}: {exc}")
        elif p.default is not None:
            out[p.name] = p.default
        elif p.required:
            hint = f" ({p.description})" if p.description else ""
            problems.append(f"param {p.name} is required: pass --param {p.name}=VALUE{hint}")
        else:
            out[p.name] = None
    if problems:
        raise UserError("invalid params:\n  " + "\n  ".join(problems))
    return out


def placeholders(text: str) -> tuple[list[str], list[str]]:
    """The names used in ``text``, and any ``{{`` that is not a well-formed placeholder."""
    names = [m.group(1) for m in PLACEHOLDER.finditer(text)]
    bad: list[str] = []
    stripped = PLACEHOLDER.sub("", text)
    for m in _OPEN.finditer(stripped):
        bad.append(stripped[m.start() : m.start() + 30])
    return names, bad


def split_command(command: str) -> list[str]:
    """Split a command string into argv tokens *before* substitution (placeholders kept).

    Raises:
        ValueError: unbalanced quotes.
    """
    found: list[str] = []

    def shield(m: re.Match[str]) -> str:
        found.append(m.group(0))
        return f"{_SHIELD_L}{len(found) - 1}{_SHIELD_R}"

    shielded = PLACEHOLDER.sub(shield, command)
    tokens = shlex.split(shielded, posix=True)
    unshield = re.compile(f"{_SHIELD_L}(\\d+){_SHIELD_R}")
    return [unshield.sub(lambda m: found[int(m.group(1))], t) for t in tokens]


@dataclass(frozen=True)
class Scope:
    """What placeholders resolve against in one run."""

    params: Mapping[str, Any]
    function: Function
    secret: Callable[[str], str]
    run_id: str = ""

    def lookup(self, name: str) -> Any:
        """The value of one placeholder name. Raises KeyError for an unknown name."""
        if name.startswith("function."):
            attr = name.split(".", 1)[1]
            if attr not in FUNCTION_FIELDS:
                raise KeyError(name)
            value = getattr(self.function, attr)
            return "" if value is None else getattr(value, "value", value)
        if name.startswith("secrets."):
            return self.secret(name.split(".", 1)[1])
        if name == "run.id":
            return self.run_id
        if name in self.params:
            return self.params[name]
        raise KeyError(name)


def _text(value: Any) -> str:
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}" if abs(value) < 1e15 else str(value)
    return "" if value is None else str(value)


def fill(text: str, scope: Scope, *, typed: bool = False) -> Any:
    """``text`` with every placeholder replaced by its value's text.

    With ``typed`` and ``text`` exactly one placeholder, the value keeps its type (an int
    param stays an int in an action's params).
    """
    if "{{" not in text:
        return text
    whole = PLACEHOLDER.fullmatch(text.strip())
    if typed and whole is not None:
        return scope.lookup(whole.group(1))
    return PLACEHOLDER.sub(lambda m: _text(scope.lookup(m.group(1))), text)


def fill_url(template: str, scope: Scope) -> str:
    """A URL template filled so that no value can change the URL's shape.

    Each placeholder's text is percent-encoded (``quote(text, safe="")``): a ``/``, ``?``,
    ``#`` or ``&`` in a value stays inside its path segment or query value. A placeholder
    that starts the template is its base URL (``{{ base }}/x``) and goes in as is.
    """
    if "{{" not in template:
        return template
    base = PLACEHOLDER.match(template)
    head = _text(scope.lookup(base.group(1))) if base is not None else ""
    rest = template[base.end() :] if base is not None else template
    return head + PLACEHOLDER.sub(lambda m: quote(_text(scope.lookup(m.group(1))), safe=""), rest)


def fill_obj(obj: Any, scope: Scope) -> Any:
    """A copy of ``obj`` (mappings, lists, strings) with placeholders filled, types kept."""
    if isinstance(obj, str):
        value = fill(obj, scope, typed=True)
        return str(value) if isinstance(value, Duration) else value  # "20m", not 1200.0
    if isinstance(obj, Mapping):
        return {str(k): fill_obj(v, scope) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [fill_obj(v, scope) for v in obj]
    return obj
