"""Docs-first: a command, a plugin or a config key that the README does not mention fails."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import click

from console.cli import cli
from console.config import Config
from console.engine.fleet import registry

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def command_paths(group: click.Group, prefix: str = "callboard") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            out += command_paths(cmd, f"{prefix} {name}")
        else:
            out.append(f"{prefix} {name}")
    return out


def test_every_command_is_documented() -> None:
    missing = []
    for path in command_paths(cli):
        words = path.split()
        # `callboard incident list/show ID/...` documents several subcommands on one line
        head = " ".join(words[:-1])
        if path not in README and not any(
            line.startswith(f"| `{head} ") and words[-1] in line for line in README.splitlines()
        ):
            missing.append(path)
    assert missing == []


def test_every_plugin_is_documented() -> None:
    missing = [name for name in registry.available() if f"| `{name}` |" not in README]
    assert missing == []


def test_every_config_key_is_documented() -> None:
    config_block = README[README.index("## Configuration") : README.index("### Secrets")]
    skip = {"source", "is_default"}  # set by the loader, not by the user
    missing = [
        f.name for f in fields(Config) if f.name not in skip and f"{f.name}:" not in config_block
    ]
    assert missing == []


def test_every_failure_mode_is_documented() -> None:
    from console.core.model import FAILURE_MODE_NAMES

    for mode, name in FAILURE_MODE_NAMES.items():
        assert f"| {mode.value} | {name} |" in README
