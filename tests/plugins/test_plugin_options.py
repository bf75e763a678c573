"""Plugin options: declared once by each plugin, checked by one checker, located at the
key's own line."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.config import load_config
from console.core.options import Option, OptionError, check_options, problems
from console.engine.fleet.build import build_fleet
from console.errors import ConfigError, ConfigErrors

DECLARED = (
    Option("url", "url", "the base URL", required=True),
    Option("api", "str", "which API", choices=("v1", "v3")),
    Option("verify", "bool", "check TLS"),
    Option("window", "duration", "a window"),
    Option("tags", "str|list", "extra tags"),
    Option("token", "secret", "the token"),
)


def messages(values: dict[str, object]) -> list[str]:
    return [message for _, message in problems(DECLARED, values)]


def test_good_values_have_no_problem() -> None:
    ok = {"url": "https://x", "api": "v3", "verify": False, "window": "5m", "tags": ["a", 1],
          "token": {"secret": "tok"}, "timeout": "10s"}  # fmt: skip
    assert messages(ok) == []
    assert messages({"url": {"secret": "prom-url"}, "api": None}) == []  # None: the default


def test_every_problem_is_said_with_what_was_expected() -> None:
    assert messages({"api": "v2", "verify": "no", "window": "soon", "tags": 5, "apii": 1}) == [
        "url: required — the base URL",
        "api: expected one of: v1, v3, got 'v2'",
        "verify: expected true or false, got 'no'",
        "window: expected a duration like 30s, 5m, 24h or 7d, got 'soon'",
        "tags: expected text or a list of text (extra tags), got 5",
        "unknown option 'apii' (did you mean 'api'?)",
    ]


def test_a_plugin_built_directly_gets_the_same_answer_as_a_typed_error() -> None:
    with pytest.raises(OptionError, match=r"^demo: url: required — the base URL$") as exc:
        check_options("demo", DECLARED, {})
    assert isinstance(exc.value, ConfigError) and isinstance(exc.value, ValueError)


def test_an_unknown_type_is_refused_when_declared() -> None:
    with pytest.raises(ValueError, match="unknown type 'text'"):
        Option("x", "text", "x")


def test_option_errors_are_located_at_the_key_line(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "backends:\n"
        "  - name: p\n"
        "    plugin: prometheus\n"
        "    url: http://127.0.0.1:9\n"
        "    burn_windows: 'no'\n"
        "    scrape_intervl: 15s\n"
        "  - {name: k, plugin: kubernetes}\n"
    )
    with pytest.raises(ConfigErrors) as exc:
        build_fleet(load_config(cfg), runbooks={})
    assert [e.located() for e in exc.value.errors] == [
        f"{cfg}:5: backend 'p' (prometheus): burn_windows: expected true or false, got 'no'",
        f"{cfg}:6: backend 'p' (prometheus): unknown option 'scrape_intervl' "
        "(did you mean 'scrape_interval'?)",
        f"{cfg}:7: backend 'k' (kubernetes): context: required — the kubeconfig context to "
        "act in (never the current one by accident)",
    ]
