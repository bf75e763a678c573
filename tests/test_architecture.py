"""The layering of DESIGN.md, enforced: who may import whom, and nothing at import time."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports_of(path: Path) -> set[str]:
    """Every module a file imports (at any depth: lazy imports count too)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def files(under: str) -> list[Path]:
    return sorted((ROOT / under).rglob("*.py"))


def offenders(under: str, allowed: tuple[str, ...], watched: tuple[str, ...]) -> list[str]:
    bad = []
    for path in files(under):
        for mod in imports_of(path):
            if mod.startswith(watched) and not mod.startswith(allowed):
                bad.append(f"{path.relative_to(ROOT)} imports {mod}")
    return bad


def test_core_is_pure() -> None:
    """console.core: no engine, TUI, CLI, plugins, Textual or httpx (the YAML loader, which
    keeps line numbers for runbook errors, is allowed)."""
    watched = ("console.", "textual", "httpx", "sqlite_utils", "keyring", "callboard_")
    allowed = ("console.core", "console.errors", "console.yamlload")
    assert offenders("console/core", allowed, watched) == []


def test_only_the_tui_imports_textual() -> None:
    for top in ("console/core", "console/engine", "console/commands", "plugins"):
        assert offenders(top, (), ("textual",)) == [], top
    for name in ("cli.py", "config.py", "context.py", "plugin_api.py"):
        assert not any(m.startswith("textual") for m in imports_of(ROOT / "console" / name))


def test_engine_does_not_import_the_tui_or_the_cli() -> None:
    assert offenders("console/engine", (), ("console.tui", "console.commands", "console.cli")) == []


def test_plugins_use_the_plugin_api_and_the_pure_core_only() -> None:
    """Plugins may import the plugin API, errors, the pure core, the YAML loader and the
    shared HTTP helper; the embedded OTLP source also reads the span store, and the replay
    source an incident's events (both Callboard's own store, not an outside system)."""
    allowed = (
        "console.plugin_api",
        "console.errors",
        "console.core",
        "console.yamlload",
        "console.engine.fleet.httpbackend",
    )
    bad = [
        b
        for b in offenders("plugins", allowed, ("console",))
        if not b.startswith(
            ("plugins/callboard_otlp/plugin.py", "plugins/callboard_replay/plugin.py")
        )
    ]
    assert bad == []


def test_importing_the_cli_creates_nothing_and_loads_no_plugin(tmp_path: Path) -> None:
    tmp_path = tmp_path / "home"
    tmp_path.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "CALLBOARD_"))}
    env.update(
        HOME=str(tmp_path),
        XDG_DATA_HOME=str(tmp_path / "d"),
        XDG_CONFIG_HOME=str(tmp_path / "c"),
        XDG_STATE_HOME=str(tmp_path / "s"),
    )
    code = (
        "import sys, console.cli, console.tui\n"
        "loaded = [m for m in sys.modules if m.startswith('callboard_') or m == 'textual.app']\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == ""
    assert list(tmp_path.iterdir()) == []
