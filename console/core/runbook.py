"""The runbook format: YAML parsed and validated into typed, immutable objects.

Pure: no I/O beyond :func:`load_runbook` reading one file. Every problem is reported at
once, each located at ``file:line`` and saying what was expected
(:class:`~console.errors.ConfigErrors`). The format is documented in ``runbooks/schema.json``
and ``docs/RUNBOOKS.md``; placeholders and params in :mod:`console.core.runbook_params`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.core.model import FailureMode
from console.core.runbook_check import Checker, expectation, kind_fields, params_of
from console.core.runbook_params import Param, coerce
from console.errors import ConfigError, ConfigErrors
from console.yamlload import LineMap, load_yaml

__all__ = [
    "MUTATING_KINDS",
    "SAFE_METHODS",
    "STEP_KINDS",
    "Expectation",
    "Param",
    "Runbook",
    "Step",
    "load_runbook",
    "parse_runbook",
    "step_mutates",
]

STEP_KINDS = ("check", "verify", "action", "command", "http", "manual", "note")
#: Kinds that change something (an action asks its plan). ``mutates: false`` relaxes
#: nothing, except on an http GET or HEAD: a command can do anything.
MUTATING_KINDS = frozenset({"command", "http"})
#: The only http methods a step may declare read-only (``mutates: false``).
SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Expectation:
    """What a check or verify step expects: a signal or PromQL value compared to a number,
    or a failure mode being present (or, by default for verify, absent)."""

    signal: str | None = None
    query: str | None = None
    finding: str | None = None
    op: str = "<"
    value: float | str | None = None
    present: bool = False

    def describe(self) -> str:
        """``timeout_rate < 0.02``, ``F1 absent``."""
        if self.finding is not None:
            return f"{self.finding} {'present' if self.present else 'absent'}"
        return f"{self.signal or self.query} {self.op} {self.value}"


@dataclass(frozen=True)
class Step:
    """One step of a runbook. Fields not used by its kind keep their defaults."""

    id: str
    kind: str
    title: str = ""
    line: int | None = None
    confirm: bool = False
    timeout: float | None = None
    retries: int = 0
    idempotent: bool = False
    #: True/False as written; None means the kind's default. An action's plugin decides
    #: (see :func:`step_mutates`): ``True`` can only add mutation, never remove it.
    mutates: bool | None = None
    undo: Step | None = None
    expect: Expectation | None = None
    within: float = 120.0
    every: float = 5.0
    action: str = ""
    #: The function an action targets; empty means the run's function.
    target: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    reason: str = ""
    command: tuple[str, ...] = ()
    method: str = "POST"
    url: str = ""
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    expect_status: tuple[int, ...] = ()
    text: str = ""

    @property
    def may_mutate(self) -> bool:
        """Whether this step can change something (read-only refuses it)."""
        if self.kind in ("check", "verify", "note", "manual"):
            return False
        if self.kind == "http" and self.method.upper() in SAFE_METHODS:
            return self.mutates is not False
        return True  # a command, an http write, an action: whatever ``mutates`` says

    @property
    def label(self) -> str:
        """What the step does, for a person: its title, else a summary of its kind's
        fields ("Note: …", "Check timeout_rate >= 0.2"), the id only as a last resort."""
        return self.title or self.summary or self.id

    @property
    def summary(self) -> str:
        """The step in a few words from its fields (placeholders left as written)."""
        if self.kind in ("note", "manual") and self.text.strip():
            first = self.text.strip().splitlines()[0]
            return f"{'Note' if self.kind == 'note' else 'By hand'}: {first}"
        if self.kind in ("check", "verify") and self.expect is not None:
            return f"{'Check' if self.kind == 'check' else 'Wait until'} {self.expect.describe()}"
        if self.kind == "action" and self.action:
            return f"Action {self.action}"
        if self.kind == "command" and self.command:
            return f"Run {self.command[0].rsplit('/', 1)[-1]}"
        if self.kind == "http" and self.url:
            return f"{self.method} {self.url}"
        return ""


def step_mutates(step: Step, planned: bool | None = None) -> bool:
    """Whether ``step`` changes something: what read-only refuses and production confirms.

    For an action, ``planned`` is its plugin plan's ``mutates``; the plugin decides and a
    step's ``mutates`` can only add mutation, never remove it (a plan that could not be
    made counts as mutating). Other kinds follow :attr:`Step.may_mutate`.
    """
    if step.kind == "action":
        return planned is not False or step.mutates is True
    return step.may_mutate


@dataclass(frozen=True)
class Runbook:
    """A parsed, validated runbook."""

    id: str
    title: str
    description: str = ""
    failure_modes: tuple[FailureMode, ...] = ()
    params: tuple[Param, ...] = ()
    steps: tuple[Step, ...] = ()
    path: str = ""
    line: int | None = None
    #: ``test: {params: ...}``: values for ``callboard runbooks test`` to run it with on the
    #: demo fleet (coerced to each param's type); never used by a real run.
    test_params: Mapping[str, Any] = field(default_factory=dict)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)


_TOP = ("id", "title", "description", "failure_modes", "params", "steps", "test")
_COMMON = ("id", "kind", "title", "confirm", "timeout", "retries", "idempotent", "undo", "mutates")


def parse_runbook(data: Any, lines: LineMap | None = None, path: str = "") -> Runbook:
    """Validate parsed YAML into a :class:`Runbook`.

    Raises:
        ConfigErrors: every problem, in file order, each at ``path:line``.
    """
    check = Checker(lines or LineMap(), path or None)
    for dup, line, first in check.lines.duplicates:
        check.errors.append(
            ConfigError(
                f"{'.'.join(map(str, dup))}: given twice (first at line {first})",
                path or None,
                line,
            )
        )
    if not isinstance(data, Mapping):
        check.fail((), "expected a runbook: a mapping with id, title, steps")
        raise ConfigErrors(check.errors)
    top = check.section(data, (), _TOP)
    rb_id = check.slug(top, "id", ())
    title = check.text(top, "title", (), required=True)
    modes: list[FailureMode] = []
    raw_modes = top.get("failure_modes", [])
    if not isinstance(raw_modes, list):
        check.fail(("failure_modes",), "expected a list of failure modes like [F1, F9]")
        raw_modes = []
    for i, m in enumerate(raw_modes):
        try:
            modes.append(FailureMode(str(m).upper()))
        except ValueError:
            check.fail(("failure_modes", i), f"unknown failure mode {m!r} (expected F1–F10)")
    params = params_of(check, top.get("params"))
    names = {p.name for p in params}
    steps: list[Step] = []
    raw_steps = top.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        check.fail(("steps",), "expected a non-empty list of steps")
        raw_steps = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_steps):
        step = _step(check, raw, ("steps", i), names, allow_undo=True)
        if step is None:
            continue
        if step.id in seen:
            check.fail(
                ("steps", i, "id"),
                f"step id {step.id!r} is used twice (first at step {seen[step.id] + 1})",
            )
        seen[step.id] = i
        steps.append(step)
    test_params = _test_params(check, top.get("test"), params)
    if check.errors:
        check.errors.sort(key=lambda e: e.line or 0)
        raise ConfigErrors(check.errors)
    return Runbook(
        id=rb_id,
        title=title,
        description=str(top.get("description") or ""),
        failure_modes=tuple(modes),
        params=tuple(params),
        steps=tuple(steps),
        path=path,
        line=check.lines.of(()),
        test_params=test_params,
    )


def _test_params(check: Checker, raw: Any, params: list[Param]) -> dict[str, Any]:
    """``test: {params: {name: value}}``, each a declared param coerced to its type."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        check.fail(("test",), "expected a mapping like {params: {rps: 50}}")
        return {}
    d = check.section(raw, ("test",), ("params",))
    given = d.get("params", {})
    if not isinstance(given, Mapping):
        check.fail(("test", "params"), "expected a mapping of param name to value")
        return {}
    declared = {p.name: p for p in params}
    out: dict[str, Any] = {}
    for name, value in given.items():
        param = declared.get(str(name))
        if param is None:
            known = ", ".join(declared) or "no params"
            check.fail(("test", "params", name), f"not a param of this runbook (it takes: {known})")
            continue
        try:
            out[param.name] = coerce(param, value)
        except ValueError as exc:
            check.fail(("test", "params", name), str(exc))
    return out


def _step(
    check: Checker, raw: Any, path: tuple[Hashable, ...], names: set[str], *, allow_undo: bool
) -> Step | None:
    if not isinstance(raw, Mapping):
        check.fail(path, "expected a step: a mapping with id and kind")
        return None
    kind = raw.get("kind")
    if kind not in STEP_KINDS:
        check.fail(
            (*path, "kind"), f"expected a step kind: one of {', '.join(STEP_KINDS)}, got {kind!r}"
        )
        return None
    known = _COMMON + kind_fields(kind)
    d = check.section(raw, path, known)
    step_id = check.slug(d, "id", path) if allow_undo or "id" in d else ""
    common: dict[str, Any] = {
        "id": step_id,
        "kind": kind,
        "title": check.text(d, "title", path),
        "line": check.lines.of(path),
        "confirm": check.flag(d, "confirm", path),
        "idempotent": check.flag(d, "idempotent", path),
        "retries": check.count(d, "retries", path, 0, 10),
    }
    if "timeout" in d:
        common["timeout"] = check.seconds(d, "timeout", path)
    if "mutates" in d:
        if kind in ("check", "verify", "note", "manual"):
            check.fail((*path, "mutates"), f"a {kind} step never mutates; remove this key")
        elif kind == "action":
            check.fail(
                (*path, "mutates"),
                "an action's plugin decides whether it mutates; remove this key",
            )
        else:
            common["mutates"] = check.flag(d, "mutates", path)
    if "undo" in d:
        if not allow_undo:
            check.fail((*path, "undo"), "an undo step cannot have its own undo")
        else:
            undo = _step(check, d["undo"], (*path, "undo"), names, allow_undo=False)
            if undo is not None:
                common["undo"] = Step(**{**undo.__dict__, "id": f"{step_id}.undo"})
    specific = _kind_values(check, kind, d, path)
    if common.get("mutates") is False and not (
        kind == "http" and str(specific.get("method", "")).upper() in SAFE_METHODS
    ):
        what = "a command" if kind == "command" else f"an http {specific.get('method')}"
        check.fail(
            (*path, "mutates"),
            f"{what} step always counts as mutating: `mutates: false` is allowed only on an"
            " http GET or HEAD (read-only and production refuse or confirm it anyway)",
        )
    check.placeholders_in(d, path, names, skip=("id", "kind", "undo"))
    return Step(**common, **specific)


def _kind_values(
    check: Checker, kind: str, d: Mapping[str, Any], path: tuple[Hashable, ...]
) -> dict[str, Any]:
    if kind in ("check", "verify"):
        exp = Expectation(**expectation(check, d, path, verify=kind == "verify"))
        out: dict[str, Any] = {"expect": exp}
        if kind == "verify":
            out["within"] = check.seconds(d, "within", path, 120.0)
            out["every"] = check.seconds(d, "every", path, 5.0)
        return out
    if kind == "action":
        params = d.get("params", {})
        if not isinstance(params, Mapping):
            check.fail((*path, "params"), "expected a mapping of action params")
            params = {}
        return {
            "action": check.slug(d, "action", path),
            "target": check.text(d, "target", path),
            "params": dict(params),
            "reason": check.text(d, "reason", path),
        }
    if kind == "command":
        return {"command": check.command(d, path)}
    if kind == "http":
        return check.http(d, path)
    return {"text": check.text(d, "text", path, required=True)}


def load_runbook(path: str | Path) -> Runbook:
    """Read and validate one runbook file.

    Raises:
        ConfigError: unreadable file or bad YAML. ConfigErrors: an invalid runbook.
    """
    data, lines = load_yaml(path)
    return parse_runbook(data, lines, str(path))
