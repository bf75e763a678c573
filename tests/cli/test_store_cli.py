"""``callboard store migrate|info`` and the team store's config: the password is never shown,
a bad URL or login is one line and exit 2, a server that is down exit 1."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from console.cli import main
from console.engine.store.sqlite import MIGRATIONS
from tests.pg import APP_PASSWORD, TEMPLATE, PgCluster, free_port

PAY = "checkout:POST /pay"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def team_config(tmp_path: Path, url: str, *, migrate: str = "auto") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"store:\n  url: {url}\n  password: {{secret: TEAM_DB}}\n  migrate: {migrate}\n"
    )
    return path


@pytest.fixture
def team(
    pg_cluster: PgCluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[Path, str]:
    """A config pointing at a fresh, empty PostgreSQL database; the password a secret."""
    db = pg_cluster.create_db()
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("CALLBOARD_SECRET_TEAM_DB", APP_PASSWORD)
    url = pg_cluster.url(db)
    return team_config(tmp_path, url), url


def test_the_team_store_migrates_at_start_with_one_line_and_never_shows_the_password(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture, team: tuple[Path, str]
) -> None:
    config, url = team
    caplog.set_level(logging.DEBUG)
    rc, out, err = cli(capsys, "--config", str(config), "incident", "open", "--title", "Pay",
                       "--function", PAY, "--no-refresh", "--json")  # fmt: skip
    assert rc == 0, err
    assert json.loads(out)["id"] == "INC-0001"
    assert err.strip().splitlines() == [
        f"callboard: migrating the team store {url}: schema 0 → {len(MIGRATIONS)}"
    ]
    rc, out, err = cli(capsys, "--config", str(config), "store", "info", "--json")
    info = json.loads(out)
    assert rc == 0 and err == ""
    assert info["engine"] == "postgres" and info["location"] == url
    assert info["schema"] == {"current": len(MIGRATIONS), "latest": len(MIGRATIONS)}
    assert info["counts"] == {"incidents": 1, "events": info["chain_head"]["seq"], "runs": 0}
    assert info["chain_head"]["seq"] >= 1 and len(info["chain_head"]["hash"]) == 64
    rc, out, _ = cli(capsys, "--config", str(config), "store", "info")
    assert rc == 0 and "engine    postgres" in out and "1 incidents" in out
    rc, out, _ = cli(capsys, "--config", str(config), "export", "INC-0001", "--format", "json",
                     "--stdout")  # fmt: skip
    everything = out + err + caplog.text + json.dumps(info)
    assert APP_PASSWORD not in everything


def test_manual_migration_refuses_until_store_migrate(
    capsys: pytest.CaptureFixture[str], team: tuple[Path, str], tmp_path: Path
) -> None:
    _, url = team
    config = team_config(tmp_path, url, migrate="manual")
    rc, _, err = cli(capsys, "--config", str(config), "incident", "list")
    assert rc == 2 and "run `callboard store migrate`" in err and "Traceback" not in err
    rc, out, _ = cli(capsys, "--config", str(config), "store", "info", "--json")
    assert rc == 0 and json.loads(out)["schema"]["current"] == 0
    assert json.loads(out)["counts"] is None
    rc, out, _ = cli(capsys, "--config", str(config), "store", "migrate")
    assert rc == 0 and f"migrated from schema version 0 to {len(MIGRATIONS)}" in out
    rc, out, _ = cli(capsys, "--config", str(config), "store", "migrate", "--json")
    assert json.loads(out) == {"engine": "postgres", "location": url,
                               "from": len(MIGRATIONS), "to": len(MIGRATIONS)}  # fmt: skip
    assert cli(capsys, "--config", str(config), "incident", "list")[0] == 0


def test_a_wrong_password_is_one_line_exit_2_without_it(
    capsys: pytest.CaptureFixture[str], team: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config, _ = team
    monkeypatch.setenv("CALLBOARD_SECRET_TEAM_DB", "not-the-password-42")
    rc, out, err = cli(capsys, "--config", str(config), "incident", "list")
    assert rc == 2 and out == ""
    assert "password authentication failed" in err and "store.password" in err
    assert "not-the-password-42" not in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_db_url_with_a_password_in_it_is_masked(
    capsys: pytest.CaptureFixture[str], pg_cluster: PgCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    db = pg_cluster.create_db(TEMPLATE)
    rc, out, err = cli(capsys, "--db", pg_cluster.url(db, password=True), "store", "info")
    assert rc == 0, err
    assert APP_PASSWORD not in out + err and "callboard:«redacted»@127.0.0.1" in out


@pytest.mark.parametrize(
    ("url", "code", "said"),
    [
        ("postgresql://callboard@127.0.0.1:{port}/x", 1, "cannot reach the team store"),
        ("postgresql://callboard@127.0.0.1:{cluster}/no_such_db", 2, "does not exist"),
        ("postgresql://callboard@127.0.0.1:99999999/x", 2, "invalid port number"),
        ("postgresql://callboard@127.0.0.1:{cluster}/x?sslmode=bogus", 2, "sslmode"),
        ("postgresql://callboard@no-such-host.invalid/x", 2, "the URL or the login is wrong"),
    ],
    ids=["server-down", "no-database", "bad-port", "bad-option", "unknown-host"],
)
def test_a_bad_url_is_one_line_no_traceback(
    capsys: pytest.CaptureFixture[str], pg_cluster: PgCluster, monkeypatch: pytest.MonkeyPatch,
    url: str, code: int, said: str,
) -> None:  # fmt: skip
    monkeypatch.setenv("PGPASSWORD", APP_PASSWORD)
    target = url.format(port=free_port(), cluster=pg_cluster.port)
    rc, out, err = cli(capsys, "--db", target, "incident", "list")
    assert (rc, out) == (code, "")
    assert said in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("store", "said"),
    [
        ("{url: 'postgresql://u:pw@h/db'}", "holds a password"),
        ("{url: 'mysql://h/db'}", "expected a postgresql://"),
        ("{url: 'postgresql://h/db', password: hunter2}", "expected {secret: NAME}"),
        ("{url: 'postgresql://h/db', migrate: sometimes}", "expected auto"),
        ("{urll: 'postgresql://h/db'}", "unknown key"),
    ],
)
def test_a_bad_store_section_names_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, store: str, said: str
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"read_only: false\nstore: {store}\n")
    rc, _, err = cli(capsys, "--config", str(config), "incident", "list")
    assert rc == 2 and said in err and f"{config}:2" in err
    assert "hunter2" not in err and ":pw@" not in err


def test_store_info_on_the_local_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = tmp_path / "cb.db"
    rc, out, _ = cli(capsys, "--db", str(db), "store", "info", "--json")
    info = json.loads(out)
    assert rc == 0 and info["engine"] == "sqlite" and info["location"] == str(db)
    assert info["counts"] == {"incidents": 0, "events": 0, "runs": 0}
    assert info["chain_head"] == {"seq": 0, "hash": None}
    rc, out, _ = cli(capsys, "--db", str(db), "store", "migrate")
    assert rc == 0 and f"schema up to date (version {len(MIGRATIONS)})" in out


def test_spans_and_plugin_state_stay_in_the_local_file(
    capsys: pytest.CaptureFixture[str], team: tuple[Path, str], pg_cluster: PgCluster
) -> None:
    """With the team store on PostgreSQL, a run's events go there; the demo fleet's state
    (what the rollback changed) and the OTLP span store stay in this machine's SQLite file."""
    from console import paths
    from console.context import AppContext

    config, url = team
    rc, _, err = cli(capsys, "--config", str(config), "run", "rollback-bad-deploy",
                     "--function", PAY, "--no-incident", "--yes")  # fmt: skip
    assert rc == 0, err
    db = url.rsplit("/", 1)[1]
    with pg_cluster.admin(db) as conn:
        kinds = {r[0] for r in conn.execute("SELECT kind FROM events").fetchall()}
        assert conn.execute("SELECT count(*) FROM plugin_state").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM spans").fetchone() == (0,)
    assert {"run.started", "step.intent", "step.result", "run.ended"} <= kinds
    app = AppContext(config_path=str(config))
    try:
        assert app.store.engine == "postgres" and app.local_store.engine == "sqlite"
        assert app.local_store.location == str(paths.default_db())
        demo_state = app.local_store.query("SELECT key FROM plugin_state WHERE backend = 'demo'")
        assert demo_state, "the demo's applied rollback is kept locally"
        fleet = app.fleet()
        otlp = next(b for b in fleet.backends if b.plugin_name == "otlp")
        assert otlp.plugin.spans.store is app.local_store  # type: ignore[attr-defined]
        await_close = getattr(fleet, "aclose", None)
        if await_close is not None:
            import asyncio

            asyncio.run(await_close())
    finally:
        app.close()


def test_check_names_the_team_store_and_a_missing_password_secret(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = team_config(tmp_path, "postgresql://callboard@db.internal:5432/team")
    rc, out, _ = cli(capsys, "--config", str(config), "check")
    assert rc == 0
    assert "store: team store postgresql://callboard@db.internal:5432/team (migrate: auto)" in out
    assert "note: store.password: secret 'TEAM_DB' not found" in out
    monkeypatch.setenv("CALLBOARD_SECRET_TEAM_DB", "pw-of-the-team-db")
    rc, out, _ = cli(capsys, "--config", str(config), "check")
    assert rc == 0 and "store.password" not in out and "pw-of-the-team-db" not in out


def test_paths_shows_a_team_store_url_without_its_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rc, out, _ = cli(capsys, "--db", "postgresql://u:sekrit-pw@db.internal/team", "paths")
    assert rc == 0 and "sekrit-pw" not in out
    assert "team store postgresql://u:«redacted»@db.internal/team" in out
