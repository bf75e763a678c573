"""The function screen: everything known about one function, updated on each refresh."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Static

from console.core import fmt
from console.core.causes import ago, clock, explain
from console.core.model import BURN_WINDOWS, Finding, Signals
from console.core.snapshot import FleetSnapshot, FunctionHealth
from console.core.timeline import epoch
from console.tui import cells
from console.tui.messages import SeriesReady, WorkFailed
from console.tui.screens.base import CallboardScreen
from console.tui.widgets.incident_bar import IncidentBar
from console.tui.widgets.status_bar import StatusBar

Fmt = Callable[[float | None], str]

#: (Signals field, label, formatter): every signal, in the order an on-call reads them.
SIGNALS: tuple[tuple[str, str, Fmt], ...] = (
    ("success_rate", "success rate", fmt.pct),
    ("rate_rps", "traffic", fmt.rps),
    ("p50_ms", "latency p50", fmt.ms),
    ("p95_ms", "latency p95", fmt.ms),
    ("p99_ms", "latency p99", fmt.ms),
    ("error_5xx_rate", "5xx errors", fmt.pct),
    ("timeout_rate", "timeouts", fmt.pct),
    ("throttle_rate", "throttled (429)", fmt.pct),
    ("auth_error_rate", "auth errors (401/403)", fmt.pct),
    ("serialization_error_rate", "bad payloads (400/422)", fmt.pct),
    ("retry_rate", "retries", fmt.pct),
    ("cold_start_rate", "cold starts", fmt.pct),
    ("cpu", "cpu", fmt.pct),
    ("memory", "memory", fmt.pct),
    ("queue_length", "queue length", lambda x: fmt.num(x, 0)),
    ("cost_per_1k", "cost per 1k requests", lambda x: fmt.num(x, 4)),
    ("availability", "availability", fmt.pct),
    ("failing_instances", "failing instances", fmt.pct),
)
#: The history the trend column shows: one sparkline cell per step across the last hour.
TREND_WIDTH = cells.SPARK_WIDTH * 2
SERIES_WINDOW_S = 3600.0
SERIES_STEP_S = SERIES_WINDOW_S / TREND_WIDTH
#: Below this many columns the function screen is one column, findings first.
STACK_BELOW = 110
#: The history is fetched again when a refresh comes this long (fleet clock) after the last.
SERIES_RELOAD_S = 60.0


def _section(title: str) -> Text:
    return Text(f"\n{title}", style="bold underline")


#: Fractions drawn from 0 up to at least this value; other signals are drawn relative.
ABSOLUTE_FLOORS: dict[str, float] = {
    "error_5xx_rate": 0.05,
    "timeout_rate": 0.05,
    "throttle_rate": 0.05,
    "auth_error_rate": 0.05,
    "serialization_error_rate": 0.05,
    "retry_rate": 0.2,
    "cold_start_rate": 0.2,
    "failing_instances": 0.5,
    "cpu": 1.0,
    "memory": 1.0,
}


class FunctionScreen(CallboardScreen):
    """Drill-down on one function. Esc or Backspace goes back to the fleet."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # First, so an 80-column footer still shows it (the app's own ? comes last).
        Binding("question_mark", "app.help", "Help", key_display="?"),
        Binding("escape,backspace", "app.back", "Back"),
        Binding("t", "traces", "Traces"),
        Binding("l", "logs", "Logs"),
        Binding("r", "runbook", "Run runbook"),
        Binding("i", "incident", "Incident"),
        Binding("I", "app.show_timeline", "Timeline", show=False),
        Binding("y", "copy_id", "Copy id"),
        Binding("p", "app.toggle_pause", "Pause", show=False),
    ]

    def __init__(
        self, function_id: str, snapshot: FleetSnapshot, environment: tuple[str, bool, bool]
    ) -> None:
        super().__init__()
        self.function_id = function_id
        self.snapshot = snapshot
        self.series: dict[str, list[tuple[float, float]]] | None = None
        self._env = environment
        #: Fleet-clock time of the last history fetch (None: not yet).
        self._series_at: float | None = None

    def compose(self) -> ComposeResult:
        env, prod, ro = self._env
        yield StatusBar(env, production=prod, read_only=ro)
        yield IncidentBar()
        with VerticalScroll(id="function-body"):
            yield Static(id="fn-title")
            with Horizontal(id="fn-columns"):
                yield Static(id="fn-signals")
                with Vertical(id="fn-right"):
                    yield Static(id="fn-slo")
                    yield Static(id="fn-findings")
                    yield Static(id="fn-context")
        yield Footer()

    def on_mount(self) -> None:
        self.show_snapshot(self.snapshot)
        self.watch(self.app, "shown", self.show_snapshot, init=False)
        self._stack(self.app.size.width)

    def on_resize(self) -> None:
        self._stack(self.app.size.width)

    def _stack(self, width: int) -> None:
        """Below STACK_BELOW columns: one column, findings (the right side) first, so the
        finding, deploy and alert are on the first screen; side by side again above."""
        stacked = width < STACK_BELOW
        if stacked == self.has_class("-stacked"):
            return
        self.set_class(stacked, "-stacked")
        columns = self.query_one("#fn-columns")
        right, signals = self.query_one("#fn-right"), self.query_one("#fn-signals")
        if stacked:
            columns.move_child(right, before=signals)
        else:
            columns.move_child(signals, before=right)

    @property
    def health(self) -> FunctionHealth | None:
        return self.snapshot.by_id().get(self.function_id)

    def show_snapshot(self, snapshot: FleetSnapshot) -> None:
        """Re-render with a newer snapshot (the function may have gone: say so)."""
        self.snapshot = snapshot
        self._maybe_reload(snapshot)
        h = self.health
        if h is None:
            self.query_one("#fn-title", Static).update(
                Text(
                    f"{self.function_id} is no longer reported by any backend.",
                    style="bold #e5c07b",
                )
            )
            return
        self.query_one("#fn-title", Static).update(self._title(h))
        self.query_one("#fn-signals", Static).update(self._signals(h))
        self.query_one("#fn-slo", Static).update(self._slo(h))
        self.query_one("#fn-findings", Static).update(self._findings(h))
        self.query_one("#fn-context", Static).update(self._related(h, snapshot))

    # -- workers -----------------------------------------------------------------------

    def _maybe_reload(self, snapshot: FleetSnapshot) -> None:
        """Fetch the history on open, then about once a minute as refreshes come in."""
        now = snapshot.taken_at
        last = self._series_at
        if last is None or now is None or now - last >= SERIES_RELOAD_S:
            self._series_at = now if now is not None else 0.0
            self.load_series()

    @work(group="series", exclusive=True, exit_on_error=False)
    async def load_series(self) -> None:
        """Fetch the last hour of every signal (one call per signal, concurrently)."""
        h = self.health
        fleet = self.app.fleet
        if h is None:
            return
        end = fleet.clock()
        start = end - SERIES_WINDOW_S + SERIES_STEP_S  # TREND_WIDTH points, the last at end
        names = [name for name, _l, _f in SIGNALS] + ["error_rate"]  # error_rate: see _trend
        try:
            results = await asyncio.gather(
                *(fleet.series(h.function, n, start, end, SERIES_STEP_S) for n in names),
                return_exceptions=True,
            )
        except Exception as exc:
            self.post_message(WorkFailed("signal history", exc))
            return
        series = {n: r for n, r in zip(names, results, strict=True) if isinstance(r, list) and r}
        self.post_message(SeriesReady(self.function_id, series))

    def on_series_ready(self, message: SeriesReady) -> None:
        if message.function_id == self.function_id:
            self.series = message.series
            h = self.health
            if h is not None:
                self.query_one("#fn-signals", Static).update(self._signals(h))

    # -- rendering ---------------------------------------------------------------------

    def _title(self, h: FunctionHealth) -> Text:
        fn = h.function
        sev = cells.worst(h)
        out = Text()
        out.append(cells.SEVERITY_LABEL[sev].strip() + "  ", style=cells.SEVERITY_STYLE[sev])
        out.append(fn.id, style="bold")
        out.append(f"   {fn.kind.value} · service {fn.service}", style="dim")
        out.append("\nowner ", style="dim")
        out.append(fn.owner or fmt.NO_DATA)
        out.append("   on-call ", style="dim")
        out.append(fn.oncall or fmt.NO_DATA)
        out.append("   tier ", style="dim")
        out.append(str(fn.tier) if fn.tier is not None else fmt.NO_DATA)
        if fn.system or fn.lifecycle:  # from a catalog; most metric sources have neither
            out.append("\nsystem ", style="dim")
            out.append(fn.system or fmt.NO_DATA)
            out.append("   lifecycle ", style="dim")
            out.append(fn.lifecycle or fmt.NO_DATA)
        if fn.source:
            out.append(f"   source {fn.source}", style="dim")
        if fn.labels:
            out.append("\nlabels ", style="dim")
            out.append("  ".join(f"{k}={v}" for k, v in sorted(fn.labels.items())))
        return out

    def _signals(self, h: FunctionHealth) -> RenderableType:
        table = Table(box=None, padding=(0, 1), show_header=True, header_style="dim")
        table.add_column("signal", width=22)
        table.add_column("now", justify="right", width=10)
        table.add_column("last hour", width=TREND_WIDTH)
        s: Signals = h.signals
        for name, label, f in SIGNALS:
            value = getattr(s, name)
            table.add_row(label, cells.number(f(value)), self._trend(h, name))
        return Group(_section(f"Signals (window {self._window()})"), table, self._legend(h))

    def _success_source(self, h: FunctionHealth) -> str | None:
        """Where the success-rate trend comes from: "hour", "session" or None (none)."""
        if self.series is not None and (
            self.series.get("success_rate") or self.series.get("error_rate")
        ):
            return "hour"
        return "session" if h.trend else None

    def _legend(self, h: FunctionHealth) -> Text:
        """What the success-rate trend draws (errors, on the SLO's scale) and over what."""
        source = self._success_source(h)
        if source is None:
            return Text("")
        budget = 1.0 - h.function.slo.objective
        out = Text("success rate trend: errors, 0 to 2× the error budget ", style="dim")
        out.append(f"({fmt.pct(2 * budget)})", style="dim")
        if source == "session":
            out.append(" — this session's refreshes (no history from the backend)", style="dim")
        return out

    def _window(self) -> str:
        return self.app.fleet.window

    def _trend(self, h: FunctionHealth, name: str) -> Text:
        width = TREND_WIDTH
        if name == "success_rate":
            # Errors from 0 to twice the error budget, as the fleet table draws them: noise
            # between 99.98% and 99.99% stays flat; what burns the budget stands out.
            budget2 = 2 * (1.0 - h.function.slo.objective)
            source = self._success_source(h)
            if source == "hour" and self.series is not None:
                ok = self.series.get("success_rate")
                errors = (
                    [1.0 - v for _t, v in ok] if ok else [v for _t, v in self.series["error_rate"]]
                )
                return cells.sparkline(errors, width=width, style="#7fb4ca", floor=budget2)
            if source == "session":
                return cells.sparkline(list(h.trend), width=width, style="dim", floor=budget2)
        if self.series is None:
            return Text("…", style="dim")
        pts = self.series.get(name)
        if not pts:
            return Text(fmt.NO_DATA, style="dim")
        values = [v for _t, v in pts]
        floor = ABSOLUTE_FLOORS.get(name)
        if floor is not None:  # a fraction: scale from 0 so noise at 0.02% stays flat
            return cells.sparkline(values, width=width, style="#7fb4ca", floor=floor)
        return cells.sparkline(values, width=width, style="#7fb4ca", relative=True)

    def _slo(self, h: FunctionHealth) -> RenderableType:
        slo = h.function.slo
        out = Text()
        out.append("objective ", style="dim")
        out.append(f"{fmt.pct(slo.objective, 3)} over {slo.window}")
        if slo.latency_p99_ms is not None:
            out.append("   latency objective ", style="dim")
            out.append(f"p99 ≤ {fmt.ms(slo.latency_p99_ms)}")
        b = h.burn
        out.append("\nbudget remaining ", style="dim")
        out.append(fmt.pct(b.budget_remaining if b else None), style="bold")
        if b is not None and b.page:
            out.append("   PAGE: burning fast", style=cells.SEVERITY_STYLE[cells.Severity.PAGE])
        elif b is not None and b.ticket:
            out.append(
                "   TICKET: burning slowly", style=cells.SEVERITY_STYLE[cells.Severity.TICKET]
            )
        if b is not None and b.low_traffic:
            out.append("   (low traffic: burn alerts held back)", style="dim")
        out.append("\nburn rate ", style="dim")
        for w in BURN_WINDOWS:
            rate = b.rates.get(w) if b else None
            out.append(f"{w} ", style="dim")
            out.append(f"{fmt.burn(rate)}   ")
        return Group(_section("SLO"), out)

    def _findings(self, h: FunctionHealth) -> RenderableType:
        if not h.findings:
            return Group(_section("Findings"), Text("No failure mode detected.", style="#6a9955"))
        out = Text()
        for f in h.findings:
            out.append(f"{f.severity.value:<7}", style=cells.SEVERITY_STYLE[f.severity])
            out.append(f"{f.mode.value} {f.name}", style="bold")
            out.append(f"\n       {f.evidence}")
            cause = self._cause(h, f)
            if cause:
                out.append(f"\n       {cause}", style="#e5c07b")
            out.append("\n       runbooks ", style="dim")
            out.append(", ".join(f.runbooks) if f.runbooks else "none linked", style="#7fb4ca")
            out.append("   (r runs one)\n", style="dim")
        return Group(_section("Findings"), out)

    def _cause(self, h: FunctionHealth, f: Finding) -> str | None:
        """What preceded the finding's onset (a deploy, an alert), from the app's onsets."""
        onsets = self.app.onsets
        now = self.snapshot.taken_at
        if now is None:
            return None
        deploys = self.snapshot.deploys.get(h.id, ())
        return explain(onsets.onset(h.id, f), onsets.started, now, deploys, h.alerts)

    def _when(self, at: str) -> str:
        """``20 min ago (20:41:00Z)``: relative to the refresh, the absolute time beside."""
        t, now = epoch(at), self.snapshot.taken_at
        if t is None or now is None:
            return at
        return f"{ago(now - t)} ago ({clock(t)})"

    def _related(self, h: FunctionHealth, snap: FleetSnapshot) -> RenderableType:
        fn = h.function
        deps = Text()
        for d in fn.dependencies:
            deps.append(f"  {d}")
            err = h.signals.dependency_errors.get(d)
            if err is not None:
                deps.append(
                    f"  {fmt.pct(err)} of calls failing", style="#ff6b6b" if err > 0.05 else "dim"
                )
            deps.append("\n")
        if not fn.dependencies:
            deps.append("  none known\n", style="dim")
        deploys = Text()
        for dep in snap.deploys.get(fn.id, ()):
            deploys.append(f"  {self._when(dep.at)}  ", style="dim")
            deploys.append(f"{dep.previous_version or '?'} → {dep.version}", style="bold")
            deploys.append(f"  {dep.author}  {dep.description}\n")
        if not snap.deploys.get(fn.id):
            deploys.append("  none in the last 24h\n", style="dim")
        alerts = Text()
        for a in h.alerts:
            alerts.append(f"  {a.severity:<8}", style="#ff6b6b" if a.state == "firing" else "dim")
            alerts.append(f"{a.name}", style="bold")
            if a.state == "silenced":
                # still on the function: a silence mutes notifications, not the failure
                ids = ", ".join(a.silence_ids) or "?"
                alerts.append(f"  silenced until {a.silenced_until or '?'} ({ids})", "#e5c07b")
                alerts.append(f"  since {self._when(a.since)}  {a.summary}\n")
            else:
                alerts.append(f"  {a.state} since {self._when(a.since)}  {a.summary}\n")
        if not h.alerts:
            alerts.append("  none firing\n", style="dim")
        return Group(
            _section("Dependencies"),
            deps,
            _section("Recent deploys"),
            deploys,
            _section("Alerts"),
            alerts,
        )

    # -- keys --------------------------------------------------------------------------

    def action_not_yet(self, what: str) -> None:
        self.notify(
            f"{what} are not yet available in this version.", title="Not yet available", timeout=3
        )

    def action_logs(self) -> None:
        """Open the function's log records (its service, the last 15 minutes), following."""
        from console.tui.logview import for_function
        from console.tui.screens.logs import LogsScreen

        h = self.health
        if h is None:
            self.notify(f"{self.function_id} is no longer reported.", timeout=3)
            return
        now_ns = int(self.app.fleet.clock() * 1e9)
        target = for_function(self.function_id, h.function.service, now_ns)
        self.app.push_screen(LogsScreen(target))

    def action_traces(self) -> None:
        """Open the function's recent traces, errors first."""
        from console.tui.screens.traces import TracesScreen

        h = self.health
        if h is None:
            self.notify(f"{self.function_id} is no longer reported.", timeout=3)
            return
        self.app.push_screen(TracesScreen(h.function))

    def action_runbook(self) -> None:
        """Run the worst finding's runbook (a picker when there are several)."""
        self.app.open_runbooks(self.function_id)

    def action_incident(self) -> None:
        """Open an incident on this function, or its open incident's timeline."""
        self.app.open_incident_for(self.function_id)

    def action_copy_id(self) -> None:
        self.app.copy_to_clipboard(self.function_id)
        self.notify(f"Copied {self.function_id}", timeout=2)
