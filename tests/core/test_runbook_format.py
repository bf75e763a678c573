"""The runbook format: parsing into typed steps, every problem at file:line, params, schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.core.model import FailureMode, Function
from console.core.runbook import STEP_KINDS, load_runbook, parse_runbook
from console.core.runbook_params import Param, Scope, coerce, fill, resolve_params, split_command
from console.errors import ConfigErrors, UserError
from console.yamlload import load_yaml_text

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
id: demo-rb
title: A runbook
failure_modes: [F1, f9]
params:
  rps: {type: float, min: 1, max: 500, default: 50}
  mode: {type: enum, choices: [fast, slow], default: fast}
  who: string
steps:
  - id: look
    kind: check
    signal: timeout_rate
    op: ">"
    value: 0.02
  - id: act
    kind: action
    action: throttle
    params: {rps: "{{ rps }}"}
    idempotent: true
    retries: 2
    undo: {kind: action, action: circuit_close}
  - id: cmd
    kind: command
    command: "echo '{{ who }} here' {{ function.id }}"
    timeout: 10s
  - id: wait
    kind: verify
    finding: F1
    within: 2m
    every: 5s
"""


def parse(text: str, path: str = "rb.yaml"):
    data, lines = load_yaml_text(text, path)
    return parse_runbook(data, lines, path)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigErrors) as exc:
        parse(text)
    return [e.located() for e in exc.value.errors]


def test_a_valid_runbook_becomes_typed_steps_with_lines() -> None:
    rb = parse(GOOD)
    assert rb.id == "demo-rb"
    assert rb.failure_modes == (FailureMode.F1, FailureMode.F9)
    assert [s.id for s in rb.steps] == ["look", "act", "cmd", "wait"]
    assert [s.line for s in rb.steps] == [9, 14, 21, 25]
    look, act, cmd, wait = rb.steps
    assert look.expect is not None and look.expect.describe() == "timeout_rate > 0.02"
    assert act.retries == 2 and act.idempotent and act.undo is not None
    assert act.undo.id == "act.undo" and act.undo.action == "circuit_close"
    assert cmd.command == ("echo", "{{ who }} here", "{{ function.id }}")
    assert cmd.timeout == 10.0 and cmd.may_mutate
    assert wait.within == 120.0 and wait.every == 5.0 and not wait.may_mutate
    assert wait.expect is not None and wait.expect.present is False  # verify: absent by default
    assert rb.param("rps") == Param(
        "rps", "float", default=50.0, required=False, min=1.0, max=500.0, line=5
    )


def test_every_problem_is_reported_at_its_line() -> None:
    text = """\
id: Bad Id
title: x
failure_modes: [F11]
params:
  n: {type: integer}
steps:
  - id: a
    kind: check
    signl: timeout_rate
  - id: b
    kind: note
    text: "hello {{ nobody }}"
    mutates: false
  - id: b
    kind: explode
  - id: c
    kind: action
    action: throttle
    undo: {kind: note, text: x, undo: {kind: note, text: y}}
"""
    found = problems(text)
    assert found[0].startswith("rb.yaml:1: id: expected an id")
    joined = "\n".join(found)
    assert "rb.yaml:3: failure_modes[0]: unknown failure mode 'F11'" in joined
    assert "rb.yaml:5: params.n.type: unknown param type 'integer' (did you mean 'int'?)" in joined
    assert "rb.yaml:7: steps[0]: expected exactly one of signal, query or finding" in joined
    assert "rb.yaml:9: steps[0].signl: unknown key (did you mean 'signal'?)" in joined
    assert (
        "rb.yaml:12: steps[1].text: placeholder {{ nobody }} names no param (expected one of: n)"
        in joined
    )
    assert "rb.yaml:13: steps[1].mutates: a note step never mutates" in joined
    assert "rb.yaml:15: steps[2].kind: expected a step kind" in joined
    assert "rb.yaml:19: steps[3].undo.undo: an undo step cannot have its own undo" in joined


def test_unknown_function_field_and_secret_names_are_problems() -> None:
    text = "id: x\ntitle: t\nsteps:\n  - {id: a, kind: note, text: '{{ function.team }} {{ secrets.bad name }}'}\n"
    found = "\n".join(problems(text))
    assert "unknown function field" in found
    assert "malformed placeholder" in found


def test_string_commands_are_split_before_substitution() -> None:
    argv = split_command("kubectl --context {{ ctx }} rollout undo 'deployment/{{ name }} x'")
    assert argv == [
        "kubectl",
        "--context",
        "{{ ctx }}",
        "rollout",
        "undo",
        "deployment/{{ name }} x",
    ]
    with pytest.raises(ValueError):
        split_command("echo 'unbalanced")


def test_a_placeholder_fills_one_string_and_keeps_its_type_when_alone() -> None:
    fn = Function(id="svc:op", service="svc", operation="op", owner="team-a")
    scope = Scope({"n": 3, "x": "a b; c"}, fn, lambda name: f"secret-{name}")
    assert fill("{{ n }}", scope, typed=True) == 3
    assert fill("n={{ n }} for {{ function.owner }}", scope) == "n=3 for team-a"
    assert fill("{{ x }}", scope) == "a b; c"
    assert fill("{{ secrets.tok }}", scope) == "secret-tok"


@pytest.mark.parametrize(
    ("param", "raw", "expected"),
    [
        (Param("n", "int", min=1, max=5), "3", 3),
        (Param("r", "float"), "0.5", 0.5),
        (Param("b", "bool"), "yes", True),
        (Param("d", "duration"), "5m", 300.0),
        (Param("e", "enum", choices=("a", "b")), "b", "b"),
        (Param("s", "string", pattern="[a-z]+"), "abc", "abc"),
    ],
)
def test_params_are_coerced_to_their_type(param: Param, raw: str, expected: object) -> None:
    assert coerce(param, raw) == expected


@pytest.mark.parametrize(
    ("param", "raw", "message"),
    [
        (Param("n", "int", min=1, max=5), "9", "at most 5"),
        (Param("n", "int"), "2.5", "whole number"),
        (Param("e", "enum", choices=("a", "b")), "c", "one of a, b"),
        (Param("s", "string", pattern="[a-z]+"), "ab1", "must match"),
        (Param("f", "function"), "nope:op", "no function 'nope:op'"),
        (Param("b", "bool"), "maybe", "true or false"),
        (Param("r", "float"), "inf", "expected a finite number, got 'inf'"),
        (Param("r", "float", min=0), "Infinity", "expected a finite number"),
        (Param("r", "float"), "-inf", "expected a finite number"),
        (Param("r", "float"), float("nan"), "expected a finite number"),
    ],
)
def test_bad_param_values_say_what_was_expected(param: Param, raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        coerce(param, raw, frozenset({"svc:op"}))


def test_resolve_params_reports_every_problem_at_once() -> None:
    rb = parse(GOOD)
    assert resolve_params(rb.params, {"who": "me"}) == {"rps": 50.0, "mode": "fast", "who": "me"}
    with pytest.raises(UserError) as exc:
        resolve_params(rb.params, {"rps": "0", "colour": "red"})
    text = str(exc.value)
    assert "unknown param 'colour'" in text
    assert "param rps: must be at least 1" in text
    assert "param who is required: pass --param who=VALUE" in text


def test_the_published_schema_matches_the_format() -> None:
    schema = json.loads((ROOT / "runbooks" / "schema.json").read_text())
    kinds = schema["$defs"]["step"]["properties"]["kind"]["enum"]
    assert tuple(kinds) == STEP_KINDS
    for path in sorted((ROOT / "runbooks").glob("*.yaml")):
        load_runbook(path)  # every shipped runbook parses


FROM_EVIDENCE = """\
id: from-evidence
title: x
params:
  dependency:
    type: string
    from: {source}
steps:
  - {{id: a, kind: note, text: "{{{{ dependency }}}}"}}
"""


def test_a_param_can_be_prefilled_from_the_findings_evidence() -> None:
    from console.core.runbook_params import from_evidence

    rb = parse(FROM_EVIDENCE.format(source="evidence.dependency"))
    assert rb.params[0].source == "evidence.dependency"
    assert from_evidence(rb.params, {"dependency": "bank-gateway"}) == {
        "dependency": "bank-gateway"
    }
    assert from_evidence(rb.params, {}) == {}  # a finding without it: nothing prefilled
    shipped = load_runbook(ROOT / "runbooks" / "dependency-circuit-open.yaml")
    assert shipped.param("dependency") is not None
    assert shipped.param("dependency").source == "evidence.dependency"  # type: ignore[union-attr]


def test_an_unknown_evidence_fact_is_reported_at_its_line() -> None:
    found = problems(FROM_EVIDENCE.format(source="evidence.dependncy"))
    assert found == [
        "rb.yaml:6: params.dependency.from: unknown evidence fact 'evidence.dependncy'"
        " (did you mean 'evidence.dependency'?)"
    ]
