"""The embedded span store reaches the console as a plugin like any other: through the
registry, handed over in a typed context field."""

from __future__ import annotations

import ast
from pathlib import Path

from console.config import OtlpConfig
from console.engine.fleet import registry
from console.engine.fleet.build import embedded_traces
from console.engine.store.sqlite import Store
from console.plugin_api import Traces, is_local

ROOT = Path(__file__).resolve().parents[2]


def test_the_embedded_trace_source_is_the_registered_otlp_plugin(tmp_path: Path) -> None:
    backend = embedded_traces(Store(tmp_path / "cb.db"), OtlpConfig(max_spans=10))
    assert type(backend.plugin) is registry.load("otlp")
    assert isinstance(backend.plugin, Traces) and is_local(backend.plugin)


def test_the_context_names_no_plugin_package() -> None:
    tree = ast.parse((ROOT / "console" / "context.py").read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    assert not any(m.startswith("callboard_") for m in imported)
