"""The checks behind :func:`console.core.runbook.parse_runbook`: one method per value shape.

Each check records a located problem and returns a usable default, so one pass reports
every problem in a file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Mapping
from dataclasses import fields
from typing import Any

from console.core.diagnose_rules import EVIDENCE_FACTS
from console.core.model import FailureMode, Signals
from console.core.options import suggest
from console.core.redact import is_secret_name
from console.core.runbook_params import (
    FUNCTION_FIELDS,
    PARAM_TYPES,
    Param,
    parse_seconds,
    placeholders,
    split_command,
)
from console.errors import ConfigError
from console.yamlload import LineMap, format_path

Path = tuple[Hashable, ...]
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "check": ("signal", "query", "finding", "op", "value", "present"),
    "verify": ("signal", "query", "finding", "op", "value", "present", "within", "every"),
    "action": ("action", "target", "params", "reason"),
    "command": ("command",),
    "http": ("method", "url", "json", "headers", "expect_status"),
    "manual": ("text",),
    "note": ("text",),
}
_PARAM_KEYS = (
    *("type", "description", "default", "required", "min", "max", "pattern", "choices"),
    "from",
)
_OPS = ("<", "<=", ">", ">=", "==", "!=")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

#: Signal names a check or verify may compare: every numeric ``Signals`` field, plus
#: ``dependency_error_rate`` (the worst dependency), burn rates and budget remaining.
SIGNAL_NAMES: tuple[str, ...] = (
    *(
        f.name
        for f in fields(Signals)
        if f.name not in ("error_ratio", "requests", "dependency_errors")
    ),
    "dependency_error_rate",
    "burn_rate_5m",
    "burn_rate_30m",
    "burn_rate_1h",
    "burn_rate_6h",
    "burn_rate_3d",
    "budget_remaining",
)


def kind_fields(kind: str) -> tuple[str, ...]:
    """The keys a step of ``kind`` may have beyond the common ones."""
    return _KIND_FIELDS[kind]


class Checker:
    """Collects located problems while a runbook is built."""

    def __init__(self, lines: LineMap, source: str | None) -> None:
        self.lines = lines
        self.source = source
        self.errors: list[ConfigError] = []

    def fail(self, path: Path, message: str) -> None:
        where = f"{format_path(path)}: " if path else ""
        self.errors.append(ConfigError(where + message, self.source, self.lines.of(path)))

    def section(
        self, value: Mapping[str, Any], path: Path, known: tuple[str, ...]
    ) -> dict[str, Any]:
        for key in value:
            if key not in known:
                self.fail((*path, key), f"unknown key{suggest(key, known)}")
        return {str(k): v for k, v in value.items() if k in known}

    def slug(self, d: Mapping[str, Any], key: str, path: Path) -> str:
        value = d.get(key)
        if isinstance(value, str) and _SLUG.match(value):
            return value
        self.fail(
            (*path, key), f"expected an id of lowercase letters, digits, '-' and '_', got {value!r}"
        )
        return ""

    def text(self, d: Mapping[str, Any], key: str, path: Path, *, required: bool = False) -> str:
        value = d.get(key)
        if value is None and not required:
            return ""
        if isinstance(value, str) and value.strip():
            return value
        self.fail((*path, key), f"expected text, got {value!r}")
        return ""

    def flag(self, d: Mapping[str, Any], key: str, path: Path) -> bool:
        value = d.get(key, False)
        if isinstance(value, bool):
            return value
        self.fail((*path, key), f"expected true or false, got {value!r}")
        return False

    def count(self, d: Mapping[str, Any], key: str, path: Path, lo: int, hi: int) -> int:
        value = d.get(key, lo)
        if isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi:
            return value
        self.fail((*path, key), f"expected a whole number from {lo} to {hi}, got {value!r}")
        return lo

    def seconds(self, d: Mapping[str, Any], key: str, path: Path, default: float = 0.0) -> float:
        if key not in d:
            return default
        try:
            value = parse_seconds(d[key])
        except ValueError as exc:
            self.fail((*path, key), str(exc))
            return default
        if value <= 0:
            self.fail((*path, key), "expected a duration above zero")
            return default
        return value

    def command(self, d: Mapping[str, Any], path: Path) -> tuple[str, ...]:
        raw = d.get("command")
        if isinstance(raw, str):
            try:
                argv = split_command(raw)
            except ValueError as exc:
                self.fail((*path, "command"), f"cannot split this command: {exc}")
                return ()
        elif isinstance(raw, list) and all(
            isinstance(a, str | int | float) and not isinstance(a, bool) for a in raw
        ):
            argv = [str(a) for a in raw]
        else:
            self.fail(
                (*path, "command"),
                "expected an argv list like [kubectl, get, pods] or a command string",
            )
            return ()
        if not argv:
            self.fail((*path, "command"), "expected a non-empty command")
        return tuple(argv)

    def http(self, d: Mapping[str, Any], path: Path) -> dict[str, Any]:
        method = str(d.get("method", "POST")).upper()
        if method not in _METHODS:
            self.fail(
                (*path, "method"), f"expected one of {', '.join(_METHODS)}, got {d.get('method')!r}"
            )
        url = self.text(d, "url", path, required=True)
        if url and not re.match(r"^(https?://|\{\{)", url):
            self.fail((*path, "url"), f"expected an http(s) URL, got {url!r}")
        headers = d.get("headers", {})
        if not isinstance(headers, Mapping) or not all(
            isinstance(v, str) for v in headers.values()
        ):
            self.fail((*path, "headers"), "expected a mapping of header name to text")
            headers = {}
        raw = d.get("expect_status", [])
        statuses = raw if isinstance(raw, list) else [raw]
        if not all(
            isinstance(s, int) and not isinstance(s, bool) and 100 <= s <= 599 for s in statuses
        ):
            self.fail(
                (*path, "expect_status"), f"expected an HTTP status or a list of them, got {raw!r}"
            )
            statuses = []
        return {
            "method": method,
            "url": url,
            "json": d.get("json"),
            "headers": dict(headers),
            "expect_status": tuple(statuses),
        }

    def placeholders_in(
        self, obj: Any, path: Path, names: set[str], skip: tuple[str, ...] = ()
    ) -> None:
        """Report each placeholder that names no param, function field or valid secret."""
        if isinstance(obj, str):
            used, bad = placeholders(obj)
            for b in bad:
                self.fail(path, f"malformed placeholder near {b!r}: expected {{{{ name }}}}")
            for name in used:
                problem = placeholder_problem(name, names)
                if problem:
                    self.fail(path, problem)
        elif isinstance(obj, Mapping):
            for k, v in obj.items():
                if k not in skip:
                    self.placeholders_in(v, (*path, k), names)
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                self.placeholders_in(v, (*path, i), names)


def placeholder_problem(name: str, params: set[str]) -> str | None:
    """Why ``{{ name }}`` cannot be filled, or None when it can."""
    if name.startswith("function."):
        attr = name.split(".", 1)[1]
        return (
            None
            if attr in FUNCTION_FIELDS
            else (
                f"placeholder {{{{ {name} }}}}: unknown function field{suggest(attr, FUNCTION_FIELDS)}"
            )
        )
    if name.startswith("secrets."):
        secret = name.split(".", 1)[1]
        return None if is_secret_name(secret) else f"placeholder {{{{ {name} }}}}: bad secret name"
    if name == "run.id" or name in params:
        return None
    known = tuple(sorted(params))
    hint = suggest(name, known) if known else " (this runbook declares no params)"
    return f"placeholder {{{{ {name} }}}} names no param{hint}"


def params_of(check: Checker, raw: Any) -> list[Param]:
    """The ``params`` mapping (name → spec) as Params."""
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        check.fail(("params",), "expected a mapping of param name to {type, default, ...}")
        return []
    out: list[Param] = []
    for name, spec in raw.items():
        path: Path = ("params", name)
        if not isinstance(name, str) or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            check.fail(path, f"bad param name {name!r}: letters, digits and '_'")
            continue
        if name in ("function", "secrets", "run"):
            check.fail(path, f"{name!r} is reserved for placeholders; choose another name")
            continue
        spec = {"type": spec} if isinstance(spec, str) else spec
        if not isinstance(spec, Mapping):
            check.fail(path, "expected {type: ..., default: ...} or a type name")
            continue
        d = check.section(spec, path, _PARAM_KEYS)
        ptype = d.get("type", "string")
        if ptype not in PARAM_TYPES:
            check.fail(
                (*path, "type"), f"unknown param type {ptype!r}{suggest(ptype, PARAM_TYPES)}"
            )
            ptype = "string"
        limits: dict[str, float | None] = {}
        for key in ("min", "max"):
            v = d.get(key)
            ok = v is None or (
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            )
            if not ok:
                check.fail((*path, key), f"expected a number, got {v!r}")
            limits[key] = float(v) if ok and v is not None else None
        choices = d.get("choices", [])
        if ptype == "enum" and (not isinstance(choices, list) or not choices):
            check.fail((*path, "choices"), "an enum param needs a non-empty list of choices")
            choices = []
        pattern = d.get("pattern")
        if pattern is not None:
            try:
                re.compile(str(pattern))
            except re.error as exc:
                check.fail((*path, "pattern"), f"bad regular expression: {exc}")
                pattern = None
        default = d.get("default")
        source = _param_source(check, d.get("from"), (*path, "from"))
        param = Param(
            name=name,
            type=ptype,
            description=str(d.get("description") or ""),
            default=default,
            required=bool(d.get("required", default is None)),
            min=limits["min"],
            max=limits["max"],
            pattern=None if pattern is None else str(pattern),
            choices=tuple(str(c) for c in choices if isinstance(choices, list)),
            line=check.lines.of(path),
            source=source,
        )
        if default is not None:
            from console.core.runbook_params import coerce

            try:
                param = Param(**{**param.__dict__, "default": coerce(param, default)})
            except ValueError as exc:
                check.fail((*path, "default"), f"default {exc}")
        out.append(param)
    return out


def _param_source(check: Checker, raw: Any, path: Path) -> str | None:
    """``from: evidence.<fact>``, checked against the facts a finding can name."""
    if raw is None:
        return None
    text = str(raw)
    known = tuple(f"evidence.{k}" for k in sorted(EVIDENCE_FACTS))
    if text in known:
        return text
    check.fail(path, f"unknown evidence fact {text!r}{suggest(text, known)}")
    return None


def expectation(
    check: Checker, d: Mapping[str, Any], path: Path, *, verify: bool
) -> dict[str, Any]:
    """The keyword arguments of an ``Expectation`` from a check or verify step."""
    given = [k for k in ("signal", "query", "finding") if k in d]
    if len(given) != 1:
        check.fail(path, "expected exactly one of signal, query or finding")
        return {}
    if "finding" in d:
        mode = str(d["finding"]).upper()
        if mode not in FailureMode.__members__:
            check.fail(
                (*path, "finding"), f"unknown failure mode {d['finding']!r} (expected F1–F10)"
            )
        for key in ("op", "value"):
            if key in d:
                check.fail(
                    (*path, key), "a finding expectation takes present: true/false, not op/value"
                )
        present = check.flag(d, "present", path) if "present" in d else not verify
        return {"finding": mode, "present": present}
    if "present" in d:
        check.fail((*path, "present"), "present goes with finding, not with signal or query")
    op = d.get("op")
    if op not in _OPS:
        check.fail((*path, "op"), f"expected a comparison: one of {' '.join(_OPS)}, got {op!r}")
    value = d.get("value")
    numeric = (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    )
    if not numeric and not (isinstance(value, str) and placeholders(value)[0]):
        check.fail((*path, "value"), f"expected a number (or a {{{{ param }}}}), got {value!r}")
    out: dict[str, Any] = {
        "op": str(op),
        "value": float(value) if numeric and value is not None else value,
    }
    if "signal" in d:
        if d["signal"] not in SIGNAL_NAMES:
            check.fail(
                (*path, "signal"),
                f"unknown signal {d['signal']!r}{suggest(d['signal'], SIGNAL_NAMES)}",
            )
        out["signal"] = str(d["signal"])
    else:
        out["query"] = check.text(d, "query", path, required=True)
    return out
