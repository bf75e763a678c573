"""The timeline screen: an incident's events sorted by UTC time, live.

Rows wrap at word boundaries to the terminal's width (see :mod:`.timeline_rows`); times are
relative ("12 min ago"), ``a`` toggles the UTC clock; ``enter`` shows the whole event
(:mod:`.event_detail`). ``f`` cycles a filter over the event kinds present, ``n`` adds a note,
``A`` gives a role (commander, comms, ...) to someone, ``m`` / ``R`` mark the incident
mitigated / resolved (after a confirmation), ``e`` exports
the postmortem as Markdown at once, ``E`` asks for the format first. Events
are read in a thread worker each time the app says the incidents changed (after every
recorded refresh and every change made here).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from console.core.postmortem import Postmortem, Row
from console.core.timeline import epoch
from console.engine.incidents.export import export_bytes, postmortem
from console.engine.store.atomic import write_atomic
from console.tui.messages import WorkFailed
from console.tui.screens.base import CallboardScreen
from console.tui.screens.timeline_rows import CellCache, columns, when
from console.tui.widgets.incident_bar import IncidentBar
from console.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from console.tui.incidents import IncidentDesk


class TimelineTable(DataTable[Text]):
    """The timeline's table; its ``enter`` (select the row: the detail) is in the footer."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Detail", key_display="⏎"),
    ]


@dataclass
class TimelineLoaded(Message):
    """A fresh read of the incident and its events."""

    incident_id: str
    postmortem: Postmortem


class TimelineScreen(CallboardScreen):
    """One incident's timeline. Esc goes back."""

    DEFAULT_CSS = """
    #timeline-info { height: 1; padding: 0 1; background: $surface; }
    #timeline-table { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        # the footer's order is priority: at 80 columns the last ones are cut first
        Binding("question_mark", "app.help", "Help", key_display="?"),
        Binding("a", "toggle_absolute", "Clock"),
        Binding("f", "next_kind", "Kind"),
        Binding("F", "clear_kind", "All kinds", show=False),
        Binding("n", "note", "Note"),
        Binding("m", "status('mitigated')", "Mitigate"),
        Binding("R", "status('resolved')", "Resolve"),
        Binding("e", "export('md')", "Export"),
        Binding("A", "roles", "Roles"),  # after Export: at 80 columns Export stays on screen
        Binding("E", "export_as", "Export as…", show=False),
        Binding("escape,backspace", "app.back", "Back"),
        Binding("p", "app.toggle_pause", "Pause", show=False),
    ]

    def __init__(self, incident_id: str) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.pm: Postmortem | None = None
        self.kind: str | None = None
        #: Times as the UTC clock (``a``) instead of relative to now.
        self.absolute = False
        self._width = 0
        self._cells = CellCache()
        #: After ``n``: the row count before the note; the first reload with more rows puts
        #: the cursor on the newest, so the note just written is on screen.
        self._follow_after: int | None = None

    @property
    def owner(self) -> IncidentDesk:
        """The app's incident desk (a timeline is only opened when there is one)."""
        desk = self.app.desk
        assert desk is not None
        return desk

    @property
    def onset_window_s(self) -> float:
        """``incidents.onset_window`` of the config the console started with."""
        from console.core.incident_times import DEFAULT_ONSET_WINDOW_S
        from console.errors import CallboardError

        context = self.app.context
        if context is None:  # tests
            return DEFAULT_ONSET_WINDOW_S
        try:  # loaded (and checked) before the console started
            return float(context.config.incidents.onset_window_seconds)
        except CallboardError:  # no config
            return DEFAULT_ONSET_WINDOW_S

    def compose(self) -> ComposeResult:
        env, prod, ro = self.app.env
        yield StatusBar(env, production=prod, read_only=ro)
        yield IncidentBar()
        yield Static(Text(f"{self.incident_id}: loading the timeline…"), id="timeline-info")
        yield TimelineTable(id="timeline-table", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)  # compact: at 80 columns it still ends with e Export

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.reload()
        # The header follows each refresh itself; the events follow the recorder.
        self.watch(self.app, "incidents", self.reload, init=False)

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

    def now(self) -> float | None:
        """The fleet's clock (relative times are relative to it)."""
        return epoch(self.owner.now_iso())

    def table_width(self) -> int:
        """The table's width in cells (the screen's before the first layout)."""
        return self.query_one(DataTable).size.width or self.app.size.width

    def on_resize(self, event: Resize) -> None:
        if self.pm is not None and self.table_width() != self._width:
            self.render_rows()

    def render_rows(self) -> None:
        """Rebuild the table (a timeline is short; the cursor stays on its event).

        The columns are fitted to the table's width each time, so the rows wrap to it.
        """
        table: DataTable[Text] = self.query_one(DataTable)
        current = None
        if table.row_count and table.cursor_row < table.row_count:
            current = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        rows = self.shown_rows()
        now = self.now()
        times = [when(r.event.at, now, absolute=self.absolute) for r in rows]
        self._width = self.table_width()
        cols = columns(self._width, max(map(len, times), default=8))
        with self.app.batch_update():
            table.clear(columns=True)
            for c in cols:
                table.add_column(c.label, key=c.key, width=c.width)
            for r, t in zip(rows, times, strict=True):
                row_cells, height = self._cells.cells(r, cols, t)
                table.add_row(*row_cells, height=height, key=r.event.id)
            if self._follow_after is not None and len(rows) > self._follow_after:
                self._follow_after = None
                table.move_cursor(row=table.row_count - 1)
            elif current is not None and current in table.rows:
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
        roles = pm.team.roles_line()
        if roles:  # none yet: the footer's A says how
            out.append(" · roles ", style="dim")
            out.append(roles, style="bold")
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

    def selected_row(self) -> Row | None:
        """The timeline row under the cursor (None on an empty table)."""
        table: DataTable[Text] = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((r for r in self.shown_rows() if r.event.id == key), None)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_detail()

    def action_detail(self) -> None:
        """The whole event under the cursor, in a dialog (esc closes it)."""
        from console.tui.dialogs.event_detail import EventDetailScreen

        row = self.selected_row()
        if row is not None:
            self.app.push_screen(EventDetailScreen(row, self.now()))

    def action_toggle_absolute(self) -> None:
        """Times relative to now, or the UTC clock."""
        self.absolute = not self.absolute
        self.render_rows()

    def action_clear_kind(self) -> None:
        self.kind = None
        self.render_rows()

    def action_note(self) -> None:
        from console.tui.dialogs.incident_dialogs import NoteScreen

        if self.pm is None:
            return
        inc = self.pm.incident

        def done(text: str | None) -> None:
            if text:
                self._follow_after = len(self.shown_rows())
                self.owner.write_note(inc, text)

        self.app.push_screen(NoteScreen(inc.id), done)

    def action_roles(self) -> None:
        """``A``: give a role on the incident to someone (or take it back); read-only refuses."""
        from console.engine.incidents.roles import READ_ONLY
        from console.engine.store.events import actor_of
        from console.tui.dialogs.role_dialog import RoleScreen

        if self.pm is None:
            return
        read_only = self.app.env[2]
        if read_only:
            self.notify(READ_ONLY.capitalize(), severity="warning", timeout=4)
            return
        inc = self.pm.incident

        def done(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                self.owner.write_role(inc, answer[0], answer[1], read_only)

        me = actor_of(self.owner.store)
        self.app.push_screen(RoleScreen(inc.id, self.pm.team.roles, me), done)

    def action_status(self, status: str) -> None:
        from console.tui.dialogs.incident_dialogs import ConfirmStatusScreen

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

    def action_export(self, fmt: str) -> None:
        """``e``: the postmortem as Markdown at once (the toast names the file): at the end
        of an incident the format is almost always the one a review reads."""
        self.export(fmt, self.owner.export_dir)

    def action_export_as(self) -> None:
        """``E``: choose the format (md, json, html or csv)."""
        from console.tui.dialogs.incident_dialogs import ExportScreen

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
