"""How the runbook runner draws a run: pure Rich renderables of a runbook and its record.

No Textual here, so each piece is cheap to test and to redraw on every step update.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from console.core.model import Finding
from console.core.runbook import Runbook, Step
from console.core.runbook_params import PLACEHOLDER
from console.core.snapshot import FunctionHealth
from console.engine.runbooks.runs import UNDO_OFFSET, RunRecord, StepRecord

__all__ = [
    "MARK",
    "reflow",
    "resumable_text",
    "step_status",
    "step_title",
    "steps_view",
    "stopped_runs",
    "summary_line",
    "title_text",
    "undoable",
]

#: Step status → (mark, style). ``not run`` is a step no run has reached yet.
MARK: dict[str, tuple[str, str]] = {
    "not run": ("·", "dim"),
    "pending": ("·", "dim"),
    "planned": ("○", "#7fb4ca"),
    "running": ("▶", "bold #e5c07b"),
    "done": ("✓", "bold #6a9955"),
    "failed": ("✗", "bold #ff6b6b"),
    "refused": ("⊘", "bold #ff6b6b"),
    "skipped": ("–", "dim"),
    "unknown": ("?", "bold #e5c07b"),
    "cancelled": ("■", "bold #e5c07b"),
}
RUN_STYLE = {
    "succeeded": "bold #6a9955",
    "failed": "bold #ff6b6b",
    "refused": "bold #ff6b6b",
    "cancelled": "bold #e5c07b",
    "interrupted": "bold #e5c07b",
    "running": "bold #e5c07b",
    "undone": "bold #7fb4ca",
}
OUTPUT_LINES = 8
#: A step's title in the plan, at most (a note's whole text follows in its output).
TITLE_MAX = 80


def step_status(rec: StepRecord | None, run_status: str | None) -> str:
    """The status a user reads: the contract's names, ``not run`` before any run."""
    if rec is None or run_status is None:
        return "not run"
    return str(rec.to_json(run_status)["status"])


def reflow(text: str) -> str:
    """A YAML block's hard-wrapped lines as paragraphs the terminal wraps at its width."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def _fill(text: str, values: Mapping[str, Any]) -> str:
    """``{{ name }}`` placeholders of params replaced by their values (others as written)."""

    def one(m: re.Match[str]) -> str:
        value = values.get(m.group(1))
        return m.group(0) if value is None else str(value)

    return PLACEHOLDER.sub(one, text)


def step_title(step: Step, values: Mapping[str, Any] | None = None) -> str:
    """A step as a person reads it: its title, else what it does; the raw id last."""
    text = _fill(step.label, values or {})
    return text if len(text) <= TITLE_MAX else text[: TITLE_MAX - 1] + "…"


def _what(step: Step, values: Mapping[str, Any]) -> str:
    if step.kind == "verify" and step.expect is not None:
        expect = PLACEHOLDER.sub(
            lambda m: str(values.get(m.group(1), m.group(0))), step.expect.describe()
        )
        return f"until {expect} (every {step.every:g}s, within {step.within:g}s)"
    if step.kind == "action":
        return f"action {step.action}"
    return ""


def _progress(step: Step, polls: int, poll_every: float | None) -> str:
    every = step.every if poll_every is None else poll_every
    most = max(1, int(-(-step.within // step.every))) + 1
    return f"polling: poll {polls} of at most {most}, every {every:g}s, up to {step.within:g}s"


def steps_view(
    runbook: Runbook,
    record: RunRecord | None,
    polls: Mapping[str, int],
    poll_every: float | None,
    values: Mapping[str, Any] | None = None,
) -> Table:
    """Every step with its live state and its output's last lines; undo steps after."""
    table = Table(box=None, show_header=True, header_style="dim", padding=(0, 1), expand=True)
    table.add_column("", width=1)
    table.add_column("#", width=2, justify="right", style="dim")
    table.add_column("step", ratio=1)
    table.add_column("kind", width=7, style="dim")
    table.add_column("status", width=8)
    by_idx = {s.idx: s for s in record.steps} if record else {}
    rows: list[tuple[int, Step, StepRecord | None]] = [
        (i, s, by_idx.get(i)) for i, s in enumerate(runbook.steps)
    ]
    for idx, done in sorted(by_idx.items()):
        base = idx - UNDO_OFFSET
        if idx >= UNDO_OFFSET and 0 <= base < len(runbook.steps):
            undo = runbook.steps[base].undo
            if undo is not None:
                rows.append((idx, undo, done))
    given = {**{p.name: p.default for p in runbook.params}, **(values or {})}
    for idx, step, rec in rows:
        status = step_status(rec, record.status if record else None)
        mark, style = MARK.get(status, ("?", ""))
        cell = Text(step_title(step, given), style="bold" if status == "running" else "")
        if idx >= UNDO_OFFSET:
            base_title = step_title(runbook.steps[idx - UNDO_OFFSET], given)
            cell = Text(f"undo of {base_title}: {step_title(step, given)}")
        flags = [f for f, on in (("confirm", step.confirm), ("idempotent", step.idempotent)) if on]
        if flags:
            cell.append(f"  [{', '.join(flags)}]", style="dim")
        what = _what(step, given)
        if what and status in ("not run", "pending"):
            cell.append(f"\n{what}", style="dim")
        if status == "running" and step.kind == "verify":
            cell.append(f"\n{_progress(step, polls.get(step.id, 1), poll_every)}", style="#e5c07b")
        if rec is not None and rec.output:
            lines = rec.output.splitlines()
            shown = lines[-OUTPUT_LINES:]
            if len(lines) > len(shown):
                shown = [f"… {len(lines) - len(shown)} earlier lines", *shown]
            cell.append("\n" + "\n".join(shown), style="#b0b0b0")
        num = str(idx + 1) if idx < UNDO_OFFSET else "↶"
        table.add_row(Text(mark, style=style), num, cell, step.kind, Text(status, style=style))
    return table


def summary_line(
    record: RunRecord | None,
    *,
    busy: str | None,
    dry_ok: bool,
    problems: int,
    no_incident: bool = False,
    confirm_offers: bool = False,
) -> Text:
    """One line saying what happened and what Enter does next (and, with no incident
    open, that ``i`` opens one for the run to join — or, ``confirm_offers``, that the
    run's confirmation does)."""
    out = Text()
    if busy:
        out.append(f"{busy}…", style="bold #e5c07b")
        if busy.startswith(("Running", "Resuming", "Undoing")):
            out.append("   c cancels", style="dim")
        return out
    if record is not None:
        mode = "Dry run" if record.dry_run else "Run"
        out.append(f"{mode} {record.id} ", style="bold")
        out.append(record.status, style=RUN_STYLE.get(record.status, "bold"))
        if record.dry_run and record.status == "succeeded":
            out.append(": every step planned, nothing changed.", style="#6a9955")
        elif not record.dry_run:
            where = f"in {record.incident_id}" if record.incident_id else "(callboard runs)"
            out.append(f" — recorded {where}.", style="dim")
        out.append("   ")
    if problems:
        out.append(f"Fix {problems} param{'s' if problems > 1 else ''} above.", style="#ff6b6b")
    elif dry_ok:
        out.append("Enter: run for real", style="bold reverse #e5c07b")
    else:
        out.append("Enter: dry run (changes nothing)", style="bold reverse #7fb4ca")
    if no_incident:
        out.append("   no incident open: i opens one (the run joins it)", style="#e5c07b")
        if confirm_offers:
            out.append(", or Enter in the confirmation", style="#e5c07b")
    return out


def resumable_text(runs: Sequence[RunRecord]) -> RenderableType:
    """Runs of this runbook on this function that stopped part-way; R resumes the first."""
    if not runs:
        return Text("")
    table = Table(box=None, show_header=False, padding=(0, 1))
    for i, r in enumerate(runs):
        done = sum(1 for s in r.steps if s.status == "done" and s.idx < UNDO_OFFSET)
        total = sum(1 for s in r.steps if s.idx < UNDO_OFFSET)
        unknown = [s.id for s in r.steps if s.status in ("unknown", "running")]
        note = f"outcome unknown: {', '.join(unknown)}" if unknown else ""
        table.add_row(
            Text("R ▸" if i == 0 else "", style="bold #e5c07b"),
            Text(r.id, style="bold"),
            Text(r.status, style=RUN_STYLE.get(r.status, "")),
            Text(f"{done}/{total} steps done", style="dim"),
            Text(r.started, style="dim"),
            Text(note, style="#e5c07b"),
        )
    title = Text("Stopped runs of this runbook here — R resumes the newest", style="bold underline")
    return Group(title, table)


def title_text(
    runbook: Runbook,
    function_id: str,
    env: tuple[str, bool, bool],
    finding: Finding | None,
    health: FunctionHealth | None,
) -> Text:
    """The runbook, the function, the environment, and whether the finding still holds."""
    out = Text("Runbook ", style="dim")
    out.append(runbook.title, style="bold")
    out.append(f"   {runbook.id}", style="dim")
    out.append("\non ", style="dim")
    out.append(function_id, style="bold")
    name, prod, read_only = env
    out.append(" in", style="dim")
    out.append(
        f" {'PRODUCTION ' if prod else ''}{name} ",
        style="bold reverse #ff6b6b" if prod else "bold reverse",
    )
    if read_only:
        out.append("  READ-ONLY: mutating steps are refused", style="bold #7fb4ca")
    if finding is not None:
        now = [x for x in health.findings if x.mode == finding.mode] if health else [finding]
        out.append("\nfor ", style="dim")
        if now:
            out.append(
                f"{now[0].severity.value} {finding.mode.value} {finding.name}", style="#ff6b6b"
            )
            out.append(f" — {now[0].evidence}", style="dim")
        else:
            out.append(
                f"{finding.mode.value} {finding.name}: no longer diagnosed ✓", style="#6a9955"
            )
    return out


def undoable(record: RunRecord | None, runbook: Runbook) -> list[str]:
    """Done steps of a finished or stopped real run that have an ``undo`` not yet run."""
    stopped = ("succeeded", "cancelled", "failed", "refused")
    if record is None or record.dry_run or record.status not in stopped:
        return []
    undone = {s.idx - UNDO_OFFSET for s in record.steps if s.idx >= UNDO_OFFSET}
    return [
        s.id
        for s in record.steps
        if s.idx < min(UNDO_OFFSET, len(runbook.steps))
        and s.status == "done"
        and s.idx not in undone
        and runbook.steps[s.idx].undo is not None
    ]


def stopped_runs(
    runs: Sequence[RunRecord], runbook_id: str, function_id: str, statuses: frozenset[str]
) -> list[RunRecord]:
    """Real runs of this runbook on this function that stopped part-way, newest first."""
    return [
        r
        for r in runs
        if r.runbook == runbook_id
        and r.function_id == function_id
        and not r.dry_run
        and r.status in statuses
    ][:5]
