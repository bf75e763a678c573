"""The timeline screen: an incident's events sorted by UTC time, live.

``f`` cycles a filter over the event kinds present, ``n`` adds a note, ``m`` / ``R`` mark the
incident mitigated / resolved (after a confirmation), ``e`` exports the postmortem. Events
are read in a thread worker each time the app says the incidents changed (after every
recorded refresh and every change made here).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from console.core.postmortem import Postmortem, Row
from console.engine.atomic import write_atomic
from console.engine.export import export_bytes, postmortem
from console.tui.messages import WorkFailed
from console.tui.widgets.incident_bar import IncidentBar
from console.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from console.tui.incidents import IncidentsMixin

#: (key, label, width): the table's columns (the summary takes the rest).
COLUMNS = (("at", "time (UTC)", 24), ("kind", "kind", 17), ("actor", "actor", 10),
           ("function", "function", 26), ("summary", "what happened", 200))  # fmt: skip
KIND_STYLE = {"finding.appeared": "#ff6b6b", "finding.cleared": "#6a9955",
              "alert.firing": "#ff6b6b", "alert.resolved": "#6a9955", "note": "#7fb4ca",
              "status.changed": "bold #e5c07b", "incident.opened": "bold"}  # fmt: skip


@dataclass
class TimelineLoaded(Message):
    """A fresh read of the incident and its events."""

    incident_id: str
    postmortem: Postmortem


class TimelineScreen(Screen[None]):
    """One incident's timeline. Esc goes back."""

    DEFAULT_CSS = """
    #timeline-info { height: 1; padding: 0 1; background: $surface; }
    #timeline-table { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "app.back", "Back"),
        Binding("f", "next_kind", "Filter kind"),
        Binding("F", "clear_kind", "All kinds", show=False),
        Binding("n", "note", "Note"),
        Binding("m", "status('mitigated')", "Mitigated"),
        Binding("R", "status('resolved')", "Resolve"),
        Binding("e", "export", "Export"),
        Binding("p", "app.toggle_pause", "Pause", show=False),
    ]

    def __init__(self, incident_id: str) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.pm: Postmortem | None = None
        self.kind: str | None = None

    @property
    def owner(self) -> IncidentsMixin:
        return self.app  # type: ignore[return-value]

    @property
    def onset_window_s(self) -> float:
        """``incidents.onset_window`` of the config the console started with."""
        from console.core.incident_times import DEFAULT_ONSET_WINDOW_S
        from console.errors import CallboardError

        context: Any = getattr(self.app, "context", None)
        try:  # loaded (and checked) before the console started
            return float(context.config.incidents.onset_window_seconds)
        except (AttributeError, CallboardError):  # no context (tests) or no config
            return DEFAULT_ONSET_WINDOW_S

    def compose(self) -> ComposeResult:
        env, prod, ro = getattr(self.app, "env", ("", False, False))
        yield StatusBar(env, production=prod, read_only=ro)
        yield IncidentBar()
        yield Static(Text(f"{self.incident_id}: loading the timeline…"), id="timeline-info")
        table: DataTable[Text] = DataTable(
            id="timeline-table", cursor_type="row", zebra_stripes=True
        )
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        snap = getattr(self.app, "snapshot", None)
        if snap is not None:
            self.query_one(StatusBar).snapshot = snap
        self.query_one(DataTable).focus()
        self.reload()

    def show_snapshot(self, snapshot: object) -> None:
        """The header follows each refresh (the events follow the recorder, see reload)."""
        self.query_one(StatusBar).snapshot = snapshot  # type: ignore[assignment]

    # -- data --------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the incident and its events again (in a thread)."""
        self.load_timeline()

    @work(thread=True, group="timeline-load", exclusive=True, exit_on_error=False)
    def load_timeline(self) -> None:
        store = self.owner.store
        if store is None:
            return
        try:
            pm = postmortem(
                store,
                self.incident_id,
                now=self.owner.now_iso(),
                with_signals=False,
                onset_window_s=self.onset_window_s,
            )
        except Exception as exc:
            self.post_message(WorkFailed("Reading the timeline", exc))
            return
        self.post_message(TimelineLoaded(self.incident_id, pm))

    def on_timeline_loaded(self, message: TimelineLoaded) -> None:
        if message.incident_id == self.incident_id:
            self.pm = message.postmortem
            self.render_rows()

    @property
    def kinds(self) -> list[str]:
        """The event kinds present, sorted."""
        return sorted({r.event.kind for r in self.pm.timeline}) if self.pm else []

    def shown_rows(self) -> list[Row]:
        """The rows shown under the current filter, sorted by time."""
        rows = self.pm.timeline if self.pm else ()
        return [r for r in rows if self.kind is None or r.event.kind == self.kind]

    def render_rows(self) -> None:
        """Rebuild the table (a timeline is short; the cursor stays on its event)."""
        table: DataTable[Text] = self.query_one(DataTable)
        current = None
        if table.row_count and table.cursor_row < table.row_count:
            current = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        rows = self.shown_rows()
        with self.app.batch_update():
            table.clear()
            for r in rows:
                e = r.event
                table.add_row(
                    Text(e.at),
                    Text(e.kind, style=KIND_STYLE.get(e.kind, "")),
                    Text(e.actor),
                    Text(e.function_id or ""),
                    Text(r.summary, style="bold #ff6b6b" if r.outcome == "outcome unknown" else ""),
                    key=e.id,
                )
            if current is not None and current in table.rows:
                table.move_cursor(row=table.get_row_index(current))
        self.query_one("#timeline-info", Static).update(self._info(len(rows)))

    def _info(self, shown: int) -> Text:
        pm = self.pm
        if pm is None:
            return Text("")
        inc = pm.incident
        out = Text()
        out.append(f"{inc.id} ", style="bold")
        out.append(f"{inc.title}  ")
        out.append(f"{inc.severity} · {inc.status}", style="bold")
        out.append(f" · {len(pm.timeline)} events", style="dim")
        out.append(" · kind ", style="dim")
        out.append(self.kind or "all", style="bold #7fb4ca")
        if self.kind is not None:
            out.append(f" ({shown} shown; F: all)", style="dim")
        return out

    # -- keys --------------------------------------------------------------------------

    def action_next_kind(self) -> None:
        """Cycle the filter: all kinds, then each kind present, then all again."""
        kinds = self.kinds
        if self.kind not in kinds:
            self.kind = kinds[0] if kinds else None
        else:
            i = kinds.index(self.kind)
            self.kind = kinds[i + 1] if i + 1 < len(kinds) else None
        self.render_rows()

    def action_clear_kind(self) -> None:
        self.kind = None
        self.render_rows()

    def set_kind(self, kind: str | None) -> None:
        """Show only events of ``kind`` (None: all)."""
        self.kind = kind
        self.render_rows()

    def action_note(self) -> None:
        from console.tui.screens.incident_dialogs import NoteScreen

        if self.pm is None:
            return
        inc = self.pm.incident

        def done(text: str | None) -> None:
            if text:
                self.owner.write_note(inc, text)

        self.app.push_screen(NoteScreen(inc.id), done)

    def action_status(self, status: str) -> None:
        from console.tui.screens.incident_dialogs import ConfirmStatusScreen

        if self.pm is None:
            return
        inc = self.pm.incident
        if inc.status == "resolved" or (status == "mitigated" and inc.status == "mitigated"):
            self.notify(f"{inc.id} is already {inc.status}.", timeout=3)
            return

        def done(ok: bool | None) -> None:
            if ok:
                self.owner.write_status(inc, status)

        self.app.push_screen(ConfirmStatusScreen(inc.id, status), done)

    def action_export(self) -> None:
        from console.tui.screens.incident_dialogs import ExportScreen

        where = self.owner.export_dir

        def done(fmt: str | None) -> None:
            if fmt:
                self.export(fmt, where)

        self.app.push_screen(ExportScreen(self.incident_id, str(where)), done)

    @work(thread=True, group="timeline-export", exit_on_error=False)
    def export(self, fmt: str, where: Path) -> None:
        """Write the postmortem as ``where/INC-0001-postmortem.<fmt>`` (in a thread)."""
        store = self.owner.store
        if store is None:
            return
        try:
            data = export_bytes(
                store,
                self.incident_id,
                fmt,
                now=self.owner.now_iso(),
                onset_window_s=self.onset_window_s,
            )
            where.mkdir(parents=True, exist_ok=True)
            path = where / f"{self.incident_id}-postmortem.{fmt}"
            write_atomic(path, data)
        except Exception as exc:
            self.post_message(WorkFailed("Export", exc))
            return
        self.app.call_from_thread(self.notify, f"Wrote {path}", title="Exported", timeout=8)
