"""A runbook's typed params as a form: one input per param, defaults prefilled, and each
problem shown inline next to its input."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Static

from console.core.runbook_params import Param, coerce

__all__ = ["ParamsForm", "default_text", "param_label"]


def default_text(value: Any) -> str:
    """A param default as the text prefilled in its input."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return str(value)


def param_label(p: Param) -> Text:
    """``name  float 0..1 · required`` and its description."""
    out = Text(p.name, style="bold")
    kind = p.type if p.type != "enum" else f"one of {', '.join(p.choices)}"
    limits = ""
    if p.min is not None or p.max is not None:
        lo = "" if p.min is None else f"{p.min:g}"
        hi = "" if p.max is None else f"{p.max:g}"
        limits = f" {lo}..{hi}"
    out.append(f"  {kind}{limits}", style="dim")
    if p.required and p.default is None:
        out.append(" · required", style="#e5c07b")
    if p.source:
        out.append(f" · from {p.source}", style="dim")
    if p.description:
        out.append(f"\n{p.description}", style="dim italic")
    return out


class ParamsForm(Vertical):
    """Inputs for ``params``. ``values()`` validates them all and shows what is wrong."""

    DEFAULT_CSS = """
    ParamsForm { height: auto; margin-top: 1; }
    ParamsForm .param-row { height: auto; }
    ParamsForm .param-name { width: 44; padding-top: 1; }
    ParamsForm Input { width: 28; }
    ParamsForm .param-error { width: 1fr; padding: 1 0 0 1; }
    """

    def __init__(
        self,
        params: Sequence[Param],
        *,
        prefill: Mapping[str, str] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.params = tuple(params)
        #: Param name → a value from the finding's evidence, shown instead of the default.
        self.prefill = dict(prefill or {})
        #: Param index → the problem with its value, after the last ``values()``.
        self.errors: dict[int, str] = {}

    def compose(self) -> ComposeResult:
        for i, p in enumerate(self.params):
            with Horizontal(classes="param-row"):
                yield Static(param_label(p), classes="param-name")
                value = self.prefill.get(p.name) or default_text(p.default)
                yield Input(value, placeholder=p.description or p.type, id=f"param-{i}")
                yield Static("", id=f"param-err-{i}", classes="param-error")

    def input(self, index: int) -> Input:
        return self.query_one(f"#param-{index}", Input)

    def raw(self) -> dict[str, str]:
        """Param name → the text typed so far (non-empty only), for showing the plan."""
        out = {}
        for i, p in enumerate(self.params):
            text = self.input(i).value.strip()
            if text:
                out[p.name] = text
        return out

    def first_missing(self) -> Input | None:
        """The first required input that is still empty (where the cursor should start)."""
        for i, p in enumerate(self.params):
            if p.required and not self.input(i).value.strip():
                return self.input(i)
        return None

    def values(self, functions: frozenset[str] | None) -> dict[str, Any] | None:
        """Every param's typed value, or None when any is wrong (each problem shown inline).

        Args:
            functions: the fleet's function ids, for ``function`` params (None: unchecked).
        """
        values: dict[str, Any] = {}
        self.errors = {}
        for i, p in enumerate(self.params):
            raw = self.input(i).value.strip()
            try:
                if raw:
                    values[p.name] = coerce(p, raw, functions)
                elif p.required:
                    raise ValueError(f"required: {p.description or 'give a value'}")
                else:
                    values[p.name] = None
            except ValueError as exc:
                self.errors[i] = str(exc)
            self.query_one(f"#param-err-{i}", Static).update(
                Text(self.errors.get(i, ""), style="#ff6b6b")
            )
        return None if self.errors else values

    def focus_first_error(self) -> None:
        if self.errors:
            self.input(min(self.errors)).focus()
