"""``r``: open the runner for a function's worst finding (a small picker when it has several).

Runbooks are offered in the order an on-call wants them: the worst finding's first (the
diagnosis sorts pages first), then the other findings', then the function's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from console.core.model import Finding
from console.core.runbook import Runbook
from console.core.snapshot import FunctionHealth
from console.errors import ConfigError, ConfigErrors, UserError
from console.tui.run_driver import runner_context
from console.tui.screens.runner import RunnerScreen

if TYPE_CHECKING:
    from console.tui.state import ConsoleApp

__all__ = ["PickRunbookScreen", "open_runbooks", "runbook_choices"]


def runbook_choices(h: FunctionHealth) -> list[tuple[str, Finding | None]]:
    """(runbook id, the finding it answers) in order, each runbook once."""
    out: list[tuple[str, Finding | None]] = []
    seen: set[str] = set()
    for f in h.findings:
        for rb in f.runbooks:
            if rb not in seen:
                seen.add(rb)
                out.append((rb, f))
    for rb in h.function.runbooks:
        if rb not in seen:
            seen.add(rb)
            out.append((rb, None))
    return out


class PickRunbookScreen(ModalScreen[str | None]):
    """Choose one of a function's runbooks; the first (the worst finding's) is highlighted."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]
    DEFAULT_CSS = """
    PickRunbookScreen { align: center middle; }
    #pick-box { width: 90; height: auto; max-height: 80%; border: round $accent;
                background: $panel; padding: 0 1; }
    #pick-list { height: auto; max-height: 20; border: none; }
    """

    def __init__(self, function_id: str, choices: list[tuple[str, Finding | None]]) -> None:
        super().__init__()
        self.function_id = function_id
        self.choices = choices

    def compose(self) -> ComposeResult:
        options = []
        for rb, f in self.choices:
            label = Text(rb, style="bold")
            label.append(
                f"   {f.severity.value} {f.mode.value} {f.name}"
                if f
                else "   linked to the function",
                style="dim",
            )
            options.append(Option(label, id=rb))
        with Vertical(id="pick-box"):
            yield Static(Text(f"Run a runbook on {self.function_id}", style="bold"))
            yield OptionList(*options, id="pick-list")
            yield Static(Text("Enter: open · Esc: cancel", style="dim"))

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        ol.highlighted = 0
        ol.focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


def open_runbooks(app: ConsoleApp, function_id: str) -> None:
    """Open the runner for ``function_id``'s worst finding (or the picker, or say why not)."""
    snap = app.snapshot
    h = snap.by_id().get(function_id) if snap is not None else None
    if h is None:
        app.notify(f"{function_id}: no data yet.", timeout=3)
        return
    choices = runbook_choices(h)
    if not choices:
        app.notify(f"No runbook is linked to {function_id}.", title="Runbooks", timeout=4)
        return
    findings = dict(choices)

    def picked(rb_id: str | None) -> None:
        if rb_id is not None:
            open_runner(app, function_id, rb_id, findings.get(rb_id))

    if len(choices) == 1:
        picked(choices[0][0])
    else:
        app.push_screen(PickRunbookScreen(function_id, choices), picked)


def open_runner(
    app: ConsoleApp, function_id: str, runbook_id: str, finding: Finding | None
) -> None:
    """Load ``runbook_id`` from the catalog in a thread, then push its runner.

    Reading and parsing the runbook files stays off the UI thread; a bad file is notified.
    """
    ctx = runner_context(app)
    env = app.env

    def show(rb: Runbook) -> None:
        app.push_screen(RunnerScreen(rb, function_id, env, finding))

    def load() -> None:
        from console import paths
        from console.engine.runbooks.catalog import find_runbook

        try:
            rb = find_runbook(runbook_id, paths.runbook_dirs(ctx.config.runbook_paths()))
        except ConfigErrors as exc:
            first = exc.errors[0] if exc.errors else None
            app.call_from_thread(
                app.notify, f"Runbook {runbook_id} is invalid: {first}", severity="error", timeout=8
            )
            return
        except (ConfigError, UserError) as exc:
            app.call_from_thread(app.notify, str(exc), severity="error", timeout=8)
            return
        if not get_current_worker().is_cancelled:  # a newer key press wins
            app.call_from_thread(show, rb)

    app.run_worker(load, thread=True, exclusive=True, group="open-runbook", exit_on_error=False)
