"""Every export is redacted by the engine, whoever asks for it: a secret this install knows
(keyring or environment) never reaches the file, even when a process that did not know it
wrote it raw into an event — from the CLI and from the console's timeline alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.engine.incidents.export import export_incident
from console.engine.incidents.lifecycle import add_note, open_incident
from console.engine.store.events import EventLog
from console.engine.store.secrets import SecretStore
from console.engine.store.sqlite import Store
from console.tui.app import CallboardApp
from console.tui.screens.timeline import TimelineScreen
from tests.tui.test_tui_incidents import PAY, bar_text, until
from tests.tui_helpers import demo_fleet


def raw_secret_db(tmp_path: Path, secret: str) -> Store:
    """An incident with a note that carries ``secret`` raw: the writing process did not know
    it (the secret was set afterwards), so nothing masked it on the way in."""
    store = Store(tmp_path / "callboard.db")
    open_incident(store, "Checkout times out", [PAY], "SEV2", log=EventLog(store, actor="maya"))
    add_note(store, "INC-0001", f"pasted the psp key {secret} by mistake")
    assert secret in next(e.data["text"] for e in EventLog(store).iter() if e.kind == "note")
    return store


async def test_the_timeline_export_hides_a_secret_the_install_knows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "tui17-psp-live-4f3e2d1c0b"
    store = raw_secret_db(tmp_path, secret)
    monkeypatch.setenv("CALLBOARD_SECRET_PSP_KEY", secret)  # known to the install, not yet here
    app = CallboardApp(demo_fleet(), refresh_interval=3600, store=store)
    async with app.run_test(size=(140, 45)) as pilot:
        await until(app, pilot, lambda: "INC-0001" in bar_text(app))
        await pilot.press("I")
        await until(app, pilot, lambda: isinstance(app.screen, TimelineScreen))
        await pilot.press("e")  # Markdown at once (E picks the format)
        path = tmp_path / "exports" / "INC-0001-postmortem.md"
        await until(app, pilot, path.exists)
    md = path.read_text(encoding="utf-8")
    assert "pasted the psp key" in md
    assert secret not in md and "«redacted:psp_key»" in md


def test_an_export_asked_for_by_any_caller_is_primed(tmp_path: Path) -> None:
    secret = "api17-psp-live-9a8b7c6d5e"
    store = raw_secret_db(tmp_path, secret)
    known = SecretStore(env={"CALLBOARD_SECRET_PSP_KEY": secret})
    for fmt in ("md", "json", "csv", "html"):
        text = export_incident(store, "INC-0001", fmt, secrets=known)
        assert "pasted the psp key" in text and secret not in text, fmt


@pytest.mark.parametrize("as_json", [False, True])
def test_incident_show_hides_a_secret_the_install_knows(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    as_json: bool,
) -> None:
    from console.cli import main

    secret = f"show17-psp-live-{int(as_json)}c0ffee42"
    raw_secret_db(tmp_path, secret).close()
    monkeypatch.setenv("CALLBOARD_SECRET_PSP_KEY", secret)
    args = ["--db", str(tmp_path / "callboard.db"), "incident", "show", "INC-0001"]
    with pytest.raises(SystemExit) as exc:
        main([*args, "--json"] if as_json else args)
    out = capsys.readouterr().out
    assert exc.value.code in (0, None)
    assert "pasted the psp key" in out and secret not in out
