"""Config loading: what a user sees for a good file, a broken one, and no file at all."""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import pytest

from console import config as config_module
from console.config import (
    BackendConfig,
    Config,
    load_config,
    parse_duration,
    secret_ref,
    secret_refs,
)
from console.errors import ConfigError, ConfigErrors
from console.yamlload import load_yaml, load_yaml_all, load_yaml_text

DESIGN_EXAMPLE = """\
environment: {name: prod-eu, production: true}   # production: red header, confirmations
read_only: false
backends:
  - {name: prom, plugin: prometheus, url: "https://prom.internal", preset: otel-http,
     auth: {bearer: {secret: prom-token}}}
  - {name: am, plugin: alertmanager, url: "https://alertmanager.internal"}
  - {name: catalog, plugin: catalog, path: "~/ops/catalog-info.yaml"}
  - {name: traces, plugin: tempo, url: "https://tempo.internal"}
runbooks: ["~/ops/runbooks"]          # added to the shipped runbooks/
otlp: {enabled: true, host: 127.0.0.1, port: 4318}
thresholds: {F2: {throttle_rate: 0.01}}
"""


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def problems(path: Path, **kw: object) -> list[str]:
    """Every located problem load_config reports, as the CLI prints them."""
    with pytest.raises(ConfigErrors) as info:
        load_config(path, **kw)  # type: ignore[arg-type]
    return [e.located() for e in info.value.errors]


# --- YAML -------------------------------------------------------------------------------


def test_yaml_syntax_error_names_file_line_and_what_was_expected(tmp_path: Path) -> None:
    p = write(tmp_path, "backends:\n  - name: a\n    plugin: b\n   url: x\n")
    with pytest.raises(ConfigError) as info:
        load_yaml(p)
    assert info.value.line == 4
    assert info.value.located().startswith(f"{p}:4: invalid YAML: expected <block end>")


def test_yaml_syntax_error_from_load_config_is_reported_with_line(tmp_path: Path) -> None:
    p = write(tmp_path, "read_only: false\nbackends: [a, b\nrunbooks: []\n")
    (line,) = problems(p)
    assert line.startswith(f"{p}:3: invalid YAML: expected ',' or ']'")


def test_line_map_finds_keys_items_and_falls_back_to_parent() -> None:
    data, lines = load_yaml_text(DESIGN_EXAMPLE, "c.yaml")
    assert data["backends"][0]["url"] == "https://prom.internal"
    assert lines.of(("backends",)) == 3
    assert lines.of(("backends", 0, "auth", "bearer", "secret")) == 5
    assert lines.of(("backends", 3, "url")) == 8
    assert lines.of(("backends", 3, "nope", 9)) == 8
    assert lines.of(("otlp", "port")) == 10


def test_empty_file_is_an_empty_mapping(tmp_path: Path) -> None:
    assert load_yaml(write(tmp_path, ""))[0] == {}
    assert load_yaml(write(tmp_path, "# only a comment\n"))[0] == {}


def test_multi_document_loading_keeps_lines_per_document(tmp_path: Path) -> None:
    p = write(tmp_path, "id: a\n---\nid: b\nsteps: [1, 2]\n")
    docs = load_yaml_all(p)
    assert [d["id"] for d, _ in docs] == ["a", "b"]
    assert docs[1][1].of(("steps", 1)) == 4


def test_yaml_is_safe_only(tmp_path: Path) -> None:
    p = write(tmp_path, "x: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError, match="could not determine a constructor"):
        load_yaml(p)


def test_recursive_alias_does_not_hang() -> None:
    data, lines = load_yaml_text("a: &a [*a]\n")
    assert data["a"][0] is data["a"]
    assert lines.of(("a", 0, 0, 0)) == 1


# --- a good file and no file -------------------------------------------------------------


def test_design_example_loads_with_backend_options_untouched(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, DESIGN_EXAMPLE))
    assert cfg.environment.name == "prod-eu" and cfg.environment.production
    assert [b.name for b in cfg.backends] == ["prom", "am", "catalog", "traces"]
    prom = cfg.backends[0]
    assert prom == BackendConfig(
        name="prom",
        plugin="prometheus",
        options={
            "url": "https://prom.internal",
            "preset": "otel-http",
            "auth": {"bearer": {"secret": "prom-token"}},
        },
        line=4,
    )
    assert cfg.thresholds == {"F2": {"throttle_rate": 0.01}}
    assert cfg.otlp.port == 4318 and cfg.otlp.max_age_seconds == 86400
    assert cfg.slo_counted == ("5xx", "timeout") and cfg.refresh_interval == 5.0
    assert not cfg.is_default and cfg.source == str(tmp_path / "config.yaml")
    assert cfg.runbook_paths() == (Path("~/ops/runbooks").expanduser(),)


def test_no_config_anywhere_gives_the_default_demo_config(isolated_env: Path) -> None:
    cfg = load_config()
    assert cfg.is_default and cfg.source is None and cfg.backends == ()
    assert cfg.environment.name == "demo" and not cfg.environment.production
    assert cfg.demo.seed == 7 and cfg.demo.size is None
    assert cfg == Config.demo_only()


def test_xdg_config_file_is_used_when_present(isolated_env: Path) -> None:
    xdg = isolated_env / "xdg" / "xdg_config_home" / "callboard"
    xdg.mkdir()
    (xdg / "config.yaml").write_text("environment: staging\n")
    cfg = load_config()
    assert cfg.environment.name == "staging" and cfg.source == str(xdg / "config.yaml")


def test_callboard_config_env_overrides_xdg(tmp_path: Path) -> None:
    p = write(tmp_path, "read_only: true\n", "other.yaml")
    cfg = load_config(env={"CALLBOARD_CONFIG": str(p)})
    assert cfg.read_only and cfg.source == str(p)
    # An explicit argument wins over the environment.
    q = write(tmp_path, "read_only: false\n", "arg.yaml")
    assert load_config(q, env={"CALLBOARD_CONFIG": str(p)}).source == str(q)


@pytest.mark.parametrize("value", ["1", "true", "YES"])
def test_callboard_read_only_env_forces_read_only(tmp_path: Path, value: str) -> None:
    p = write(tmp_path, "read_only: false\n")
    assert load_config(p, env={"CALLBOARD_READ_ONLY": value}).read_only
    assert load_config(None, env={"CALLBOARD_READ_ONLY": value}).read_only
    assert not load_config(p, env={"CALLBOARD_READ_ONLY": "0"}).read_only


def test_unrecognised_read_only_env_is_an_error_not_silently_ignored(tmp_path: Path) -> None:
    (line,) = problems(write(tmp_path, "{}\n"), env={"CALLBOARD_READ_ONLY": "maybe"})
    assert "CALLBOARD_READ_ONLY" in line and "'maybe'" in line


def test_missing_explicit_config_is_reported(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert problems(missing) == [f"{missing}: config file not found"]
    with pytest.raises(ConfigErrors, match="config file not found"):
        load_config(None, env={"CALLBOARD_CONFIG": str(missing)})


def test_loading_creates_no_directory(isolated_env: Path) -> None:
    before = sorted(p for p in isolated_env.rglob("*"))
    load_config()
    Config.demo_only()
    assert sorted(p for p in isolated_env.rglob("*")) == before


# --- each validation message, with its line -----------------------------------------------

BROKEN = """\
environment: {name: prod-eu, production: yes}
read_only: "no"
backend: []
backends:
  - {name: prom, plugin: prometheus, auth: {bearer: {secret: prom-token}}}
  - {name: am, plugin: 3}
  - name: prom
    plugin: tempo
    token: {secret: 5}
  - plugin: zipkin
  - just-a-string
otlp: {port: 70000, max_age: forever, maxspans: 3}
thresholds: {F2: {throttle_rate: 0.01, throttl: 2}, F11: {}, F3: {retry_rate: high}, guard: 3}
slo_counted: [5xx, timeouts, client]
refresh_interval: 0
demo: {seed: x, size: 0}
"""


def test_every_problem_is_reported_together_in_file_order(tmp_path: Path) -> None:
    p = write(tmp_path, BROKEN)
    got = [line.removeprefix(f"{p}:") for line in problems(p)]
    assert got == [
        "2: read_only: expected a boolean (true or false), got 'no'",
        "3: backend: unknown key (did you mean 'backends'?)",
        "6: backends[1].plugin: expected a string naming a plugin, got 3",
        "7: backends[2].name: duplicate backend name 'prom' (first at line 5)",
        "9: backends[2].token.secret: expected a secret name (letters, digits, '-', '_', '.'), got 5",
        "10: backends[3]: missing 'name': expected a unique backend name, e.g. name: prom",
        "11: backends[4]: expected a mapping with name and plugin, got 'just-a-string'",
        "12: otlp.maxspans: unknown key (did you mean 'max_spans'?)",
        "12: otlp.max_age: expected a duration like 30s, 5m, 24h or 7d, got 'forever'",
        "12: otlp.port: expected a port number 1–65535, got 70000",
        "13: thresholds.F2.throttl: unknown threshold (did you mean 'throttle_rate'?)",
        "13: thresholds.F11: unknown failure mode (did you mean 'F1'?)",
        "13: thresholds.F3.retry_rate: expected a non-negative number, got 'high'",
        "13: thresholds.guard: expected a mapping of threshold name to number, got 3",
        "14: slo_counted[1]: unknown response class 'timeouts' (did you mean 'timeout'?)",
        "14: slo_counted[2]: class 'client' has no rate of its own and cannot count against "
        "the SLO; expected one of: 5xx, timeout, throttle, auth, serialization",
        "15: refresh_interval: expected seconds between refreshes (0.1 to 3600, or a duration "
        "like 10s), got 0",
        "16: demo.seed: expected an integer seed, got 'x'",
        "16: demo.size: expected a number of functions (1 or more), got 0",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("backends: {name: a}\n", "1: backends: expected a list of backends, got a mapping"),
        ("backends:\n  - name: a\n", "2: backends[0]: missing 'plugin'"),
        ("read_only: 1\n", "1: read_only: expected a boolean (true or false), got 1"),
        ("thresholds: [1]\n", "1: thresholds: expected a mapping of failure mode"),
        (
            "thresholds:\n  F1: {timeout_rate: -1}\n",
            "2: thresholds.F1.timeout_rate: expected a non-negative",
        ),
        ("otlp: {port: http}\n", "1: otlp.port: expected a port number 1–65535, got 'http'"),
        ("otlp: {enabled: 'yes'}\n", "1: otlp.enabled: expected a boolean"),
        ("environment: {production: 1}\n", "1: environment.production: expected a boolean"),
        ("runbooks: 3\n", "1: runbooks: expected a list of runbook folders, got 3"),
        ("- a\n- b\n", "1: expected a mapping of settings at the top level, got a list"),
        ("read_only: true\nread_only: false\n", "2: read_only: given twice (first at line 1)"),
        ("backends:\n - {name: a, plugin: b, k: {secret: 'a b'}}\n", "2: backends[0].k.secret"),
    ],
)
def test_each_validation_message_names_line_and_expectation(
    tmp_path: Path, text: str, expected: str
) -> None:
    p = write(tmp_path, text)
    assert any(line.startswith(f"{p}:{expected}") for line in problems(p)), problems(p)


def test_lenient_forms_are_accepted(tmp_path: Path) -> None:
    text = """\
    environment: staging
    backends:
    otlp:
    thresholds: {f2: {throttle_rate: 1}, GUARD: {min_rps: 0.5}}
    slo_counted: 5xx
    refresh_interval: 30s
    demo: {size: 10000}
    """
    cfg = load_config(write(tmp_path, text))
    assert cfg.environment.name == "staging" and cfg.backends == ()
    assert cfg.thresholds == {"F2": {"throttle_rate": 1.0}, "guard": {"min_rps": 0.5}}
    assert cfg.slo_counted == ("5xx",) and cfg.refresh_interval == 30.0
    assert cfg.demo.size == 10_000


def test_demo_only_keeps_tuning_but_drops_backends_and_production(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, DESIGN_EXAMPLE))
    demo = Config.demo_only(cfg)
    assert demo.backends == () and not demo.environment.production
    assert demo.thresholds == cfg.thresholds


# --- helpers --------------------------------------------------------------------------------


def test_secret_ref_recognises_only_the_secret_form() -> None:
    assert secret_ref({"secret": "prom-token"}) == "prom-token"
    assert secret_ref({"secret": "a", "other": 1}) is None
    assert secret_ref("prom-token") is None
    options = {"url": "x", "auth": {"bearer": {"secret": "t"}}, "h": [{"secret": "u"}]}
    assert secret_refs(options) == [(("auth", "bearer"), "t"), (("h", 0), "u")]


def test_parse_duration() -> None:
    assert parse_duration("250ms") == 0.25
    assert parse_duration("24h") == 86400
    assert parse_duration(3) == 3.0
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_every_config_field_has_a_docstring() -> None:
    """Typed config, documented per field (the docstring follows each field)."""
    tree = ast.parse(inspect.getsource(config_module))
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and not n.name.startswith("_")):
        body = cls.body
        for i, node in enumerate(body):
            if isinstance(node, ast.AnnAssign):
                nxt = body[i + 1] if i + 1 < len(body) else None
                documented = isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                assert documented, f"{cls.name}.{ast.unparse(node.target)} has no docstring"


def test_otlp_max_logs_is_read_and_checked_at_its_line(tmp_path: Path) -> None:
    ok = load_config(write(tmp_path, "otlp: {max_logs: 5000, max_age: 2h}\n"))
    assert (ok.otlp.max_logs, ok.otlp.max_age_seconds) == (5000, 7200.0)
    p = write(tmp_path, "read_only: false\notlp: {max_logs: 0}\n", "bad.yaml")
    assert problems(p) == [f"{p}:2: otlp.max_logs: expected a positive number of records, got 0"]
