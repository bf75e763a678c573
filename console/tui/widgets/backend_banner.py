"""The failing-backend banner: under the fleet's header while any backend fails.

A toast disappears and the header has room for ``prom failing`` only; this banner stays
until the backend recovers and says which backend, where (its URL), what went wrong first
(not the later "circuit open") and for how long.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from console.core import fmt
from console.core.redact import redact

#: Failing backends named one a line before "and N more".
SHOWN = 3


@dataclass(frozen=True)
class Failing:
    """One failing backend as the banner and ``b`` show it."""

    name: str
    url: str | None
    #: The first error of this run of failures (redacted).
    first_error: str
    #: Seconds since that first error (None: not known).
    age_s: float | None
    #: Whether the fleet gets its function list from this backend.
    inventory: bool
    #: "open" / "half-open" while a capability's circuit is not closed, else None.
    circuit: str | None = None


def failing_backends(backends: Iterable[object], now: float | None) -> list[Failing]:
    """The failing ones among the engine's backends (duck-typed: the app's ``fleet``)."""
    from console.plugin_api import Inventory

    out = []
    for b in backends:
        failing = getattr(b, "failing", None)
        state = failing() if callable(failing) else None
        if state is None:
            continue
        error, since = state
        circuits = [br.state for br in getattr(b, "breakers", {}).values()]
        circuit = "open" if "open" in circuits else "half-open" if "half-open" in circuits else None
        has = getattr(b, "has", None)
        out.append(
            Failing(
                name=str(getattr(b, "name", "?")),
                url=redact(b.url) if getattr(b, "url", None) else None,  # type: ignore[attr-defined]
                first_error=redact(error),
                age_s=None if since is None or now is None else max(0.0, now - since),
                inventory=bool(callable(has) and has(Inventory)),
                circuit=circuit,
            )
        )
    return out


def failing_since(f: Failing) -> str:
    """``failing for 1m30s`` (or ``failing`` when the start is not known)."""
    return "failing" if f.age_s is None else f"failing for {fmt.age(f.age_s)}"


def banner_text(failing: list[Failing]) -> Text:
    """One line per failing backend: name, age, circuit, first error, URL (when the error
    does not already name it); what matters first, so a narrow terminal wraps the rest."""
    out = Text()
    for i, f in enumerate(failing[:SHOWN]):
        if i:
            out.append("\n")
        out.append(" ✖ ", style="bold")
        out.append(f.name, style="bold")
        out.append(f" {failing_since(f)}", style="bold")
        if f.circuit:
            out.append(f" (circuit {f.circuit})")
        out.append(": ")
        out.append(f.first_error)
        if f.url and f.url not in f.first_error:
            out.append(f" — {f.url}")
    if len(failing) > SHOWN:
        out.append(f"\n   and {len(failing) - SHOWN} more failing")
    out.append("  (b: backends)", style="dim" if len(failing) > SHOWN else "")
    return out


class BackendBanner(Static):
    """Hidden while every backend answers; one line per failing backend otherwise."""

    DEFAULT_CSS = """
    BackendBanner {
        height: auto;
        max-height: 4;
        background: $error-muted;
        color: $text;
        display: none;
    }
    BackendBanner.-active { display: block; }
    """

    def __init__(self) -> None:
        super().__init__(id="backend-banner")
        self.failing: list[Failing] = []

    def show(self, failing: list[Failing]) -> None:
        """Show ``failing`` (hide the banner when it is empty)."""
        self.failing = failing
        self.set_class(bool(failing), "-active")
        self.display = bool(failing)
        self.update(banner_text(failing) if failing else "")
