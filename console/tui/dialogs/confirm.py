"""Modal questions the runbook runner asks: confirm a step, settle an unknown outcome.

In production the confirmation opens with the focus on Cancel: Enter alone changes nothing,
Tab moves to Confirm; it is red from edge to edge and names the environment in capitals.
Elsewhere (unless a resumed plan changed) the focus starts on Confirm, so Enter approves the
step the runbook asked about (the title and the Target row name the target either way);
offered an incident (none open on the function yet), that Enter also opens one, with
"Confirm only" beside it.
The outcome question (:class:`DecideScreen`) always opens on Cancel (decide later).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static
from textual.widgets.button import ButtonVariant

from console.core.runbook import Step
from console.engine.runbooks.runs import StepRecord
from console.engine.runbooks.steprunner import ConfirmRequest

__all__ = ["ConfirmScreen", "DecideScreen", "confirm_text"]

HINT = "Tab: next button · Enter: press it · Esc: cancel"

CSS = """
ConfirmScreen, DecideScreen { align: center middle; }
#confirm-box { width: 100; max-width: 100%; height: auto; max-height: 90%; border: thick #e5c07b;
               background: $panel; padding: 0 2 1 2; }
#confirm-title { background: #e5c07b; color: #1e1e1e; margin: 0 -2 1 -2; padding: 0 1; }
ConfirmScreen.-production #confirm-box { border: thick #ff3b3b; background: #2a0b0b; }
ConfirmScreen.-production #confirm-title { background: #b01e1e; color: #ffffff; }
#confirm-buttons { height: auto; margin-top: 1; }
#confirm-buttons Button { margin-right: 2; }
#confirm-hint { margin-top: 1; }
"""


#: The executor's reason for asking → what the operator reads under "Why asked".
WHY: dict[str, str] = {
    "a confirm step": "the runbook asks: this step is marked confirm",
    "a manual step": "a manual step: you do it, then confirm it is done",
    "a mutating step in production": "this step changes production",
    "the plan changed since it was first shown": "resumed: the plan is not the one you saw",
}


def why_asked(req: ConfirmRequest) -> str:
    """Why this confirmation is asked: what the step says, and production when it is."""
    why = WHY.get(req.reason, req.reason)
    if req.production and req.reason != "a mutating step in production":
        why += f" — and this is PRODUCTION ({req.environment})"
    return why


def confirm_text(req: ConfirmRequest) -> Text:
    """What the operator approves: the step, its target, the environment, why it asks."""
    env_style = "bold reverse #ff6b6b" if req.production else "bold reverse #7fb4ca"
    out = Text()
    out.append("Target       ", style="dim")
    out.append(req.target, style="bold")
    out.append("\nEnvironment  ", style="dim")
    out.append(f" {'PRODUCTION ' if req.production else ''}{req.environment} ", style=env_style)
    out.append("\nStep         ", style="dim")
    out.append(f"{req.step}  ({req.kind})")
    out.append("\nWhy asked    ", style="dim")
    out.append(why_asked(req))
    out.append(f"\nRun          {req.run_id}", style="dim")
    if req.changed:
        out.append("\n\nThe plan changed since it was first shown\n", style="bold reverse #e5c07b")
        out.append("Before (not what will happen)\n", style="bold underline")
        out.append(req.previous, style="dim strike")
        out.append("\n\nNow: what it will do\n", style="bold underline")
        out.append(req.detail)
    elif req.detail:
        out.append("\n\nWhat it will do\n", style="bold underline")
        out.append(req.detail)
    return out


class ConfirmScreen(ModalScreen[bool]):
    """Approve one step. Dismisses True only from a Confirm button.

    With ``offer_incident`` (no incident is open on the target) a second Confirm button also
    opens one: :attr:`with_incident` says which was pressed. The focus starts on Cancel in
    production, elsewhere on the first Confirm button.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    AUTO_FOCUS = ".-first-focus"  # not "-default": Button adds its variant as a class
    DEFAULT_CSS = CSS

    def __init__(self, request: ConfirmRequest, *, offer_incident: bool = False) -> None:
        super().__init__(classes="-production" if request.production else "")
        self.request = request
        self.offer_incident = offer_incident
        #: Set when "Confirm + open an incident" was pressed.
        self.with_incident = False
        # Production, and a plan that changed since it was shown, keep the safe answer
        # under Enter; elsewhere the runbook's own confirm step is the question, and Enter
        # answers it (AUTO_FOCUS finds that button).
        safe = request.production or request.changed
        self._default = "cancel" if safe else "incident" if offer_incident else "ok"

    def _button(self, label: str, name: str, variant: ButtonVariant) -> Button:
        first = "-first-focus" if name == self._default else ""
        return Button(label, id=f"confirm-{name}", variant=variant, classes=first)

    def compose(self) -> ComposeResult:
        req = self.request
        where = f"PRODUCTION {req.environment}" if req.production else req.environment
        with Vertical(id="confirm-box"):
            yield Static(
                # The step is named in the body: a title "Confirm: Confirm a credential…"
                # read twice; this one says what is asked, where.
                Text(f" Approve this step on {req.target} in {where} ", style="bold"),
                id="confirm-title",
            )
            yield Static(confirm_text(req), id="confirm-body")
            variant: ButtonVariant = "error" if req.production else "warning"
            confirm = (
                f"Confirm the new plan on {req.target}"
                if req.changed
                else f"Confirm on {req.target}"
            )
            with Horizontal(id="confirm-buttons"):
                yield self._button("Cancel", "cancel", "default")
                if self.offer_incident:
                    # short enough for 80 columns: the title and the Target row name it
                    yield self._button("Confirm + open an incident", "incident", variant)
                    yield self._button("Confirm only", "ok", "default")
                else:
                    yield self._button(confirm, "ok", variant)
            yield Static(Text(HINT, style="dim"), id="confirm-hint")

    @on(Button.Pressed, "#confirm-ok")
    def _ok(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-incident")
    def _ok_and_incident(self) -> None:
        self.with_incident = True
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-cancel")
    def _no(self) -> None:
        self.dismiss(False)

    def action_cancel(self) -> None:
        self.dismiss(False)


class DecideScreen(ModalScreen[bool | None]):
    """A step started before a crash and is not idempotent: did it take effect?

    True: it did (skip it). False: it did not (run it again). None: decide later (the
    resume is refused and recorded).
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "later", "Cancel")]
    AUTO_FOCUS = "#decide-cancel"
    DEFAULT_CSS = CSS

    def __init__(self, step: Step, record: StepRecord, target: str, environment: str) -> None:
        super().__init__()
        self.step = step
        self.record = record
        self.target = target
        self.environment = environment

    def compose(self) -> ComposeResult:
        body = Text()
        body.append("Step ", style="dim")
        body.append(f"{self.step.label} ({self.step.kind})", style="bold")
        body.append(" on ", style="dim")
        body.append(self.target, style="bold")
        body.append(f" in {self.environment}", style="dim")
        body.append(
            "\nstarted before the run was interrupted, and it is not idempotent: running it"
            " twice may not be safe. Check the target, then say whether it took effect."
        )
        if self.record.started:
            body.append(f"\nstarted {self.record.started}", style="dim")
        if self.record.output:
            body.append("\n\n" + self.record.output[-600:], style="dim")
        with Vertical(id="confirm-box"):
            yield Static(Text(" Outcome unknown ", style="bold"), id="confirm-title")
            yield Static(body, id="confirm-body")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel (decide later)", id="decide-cancel")
                yield Button("It took effect: skip it", id="decide-done", variant="primary")
                yield Button("It did not: run it again", id="decide-rerun", variant="warning")
            yield Static(Text(HINT, style="dim"), id="confirm-hint")

    @on(Button.Pressed, "#decide-done")
    def _done(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#decide-rerun")
    def _rerun(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#decide-cancel")
    def _later(self) -> None:
        self.dismiss(None)

    def action_later(self) -> None:
        self.dismiss(None)
