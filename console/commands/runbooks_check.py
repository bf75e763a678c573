"""Runbook validation for ``callboard check``: every runbook file, every problem, file:line.

Beyond the format (unknown keys, wrong types, unknown failure modes, placeholders naming no
param) it checks that each action is offered by a configured backend. A shipped runbook
whose action no backend offers is a note, not a problem: a config with only Prometheus must
still pass ``check``; the run would fail at that step and says so.
"""

from __future__ import annotations

from console.context import AppContext
from console.errors import ConfigError, UserError
from console.plugin_api import Actions


def offered_actions(app: AppContext) -> frozenset[str] | None:
    """Every action a configured backend offers; None when the fleet cannot be built."""
    try:
        fleet = app.fleet()
    except UserError:
        return None
    offered = frozenset(
        a for b in fleet.backends if isinstance(b.plugin, Actions) for a in b.plugin.actions
    )
    if fleet.owned_http is not None:  # built only to ask; nothing was sent
        import asyncio
        import contextlib

        with contextlib.suppress(RuntimeError):  # already inside an event loop
            asyncio.run(fleet.aclose())
    return offered


def check_runbooks(app: AppContext) -> tuple[list[str], list[str]]:
    """Returns (problems, notes): each problem a located line, each note a sentence."""
    from console import paths
    from console.engine.runbooks.catalog import load_catalog

    problems: list[str] = []
    notes: list[str] = []
    extra = app.config.runbook_paths()
    for folder in extra:
        if not folder.is_dir():
            problems.append(
                ConfigError(
                    f"runbooks: folder {folder} does not exist", app.config.source
                ).located()
            )
    entries = load_catalog(paths.runbook_dirs(extra), paths.shipped_runbooks_dir())
    actions = offered_actions(app)
    seen: dict[str, str] = {}
    for entry in entries:
        problems += [e.located() for e in entry.errors]
        rb = entry.runbook
        if rb is None:
            continue
        if rb.id in seen:
            notes.append(f"runbook {rb.id}: {entry.path} replaces {seen[rb.id]}")
        seen[rb.id] = str(entry.path)
        if actions is None:
            continue
        for step in rb.steps:
            for s in (step, step.undo):
                if s is None or s.kind != "action" or s.action in actions:
                    continue
                msg = (
                    f"step {s.id}: no configured backend offers action {s.action!r} "
                    f"(offered: {', '.join(sorted(actions)) or 'none'})"
                )
                if entry.shipped:
                    notes.append(
                        f"{entry.path}:{s.line}: {msg}; this step will fail until one does"
                    )
                else:
                    problems.append(ConfigError(msg, str(entry.path), s.line).located())
    notes.append(f"runbooks: {len(seen)} valid in {len(paths.runbook_dirs(extra))} folder(s)")
    return problems, notes
