"""The headless CLI as a user meets it: status, check, paths, secrets, demo reset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run `callboard ARGS` in-process; (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def status_json(tmp_path: Path, *extra: str) -> dict:
    """`callboard status --demo --json` in a fresh process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLBOARD_")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "console.cli",
            "status",
            "--demo",
            "--json",
            "--db",
            str(tmp_path / "cb.db"),
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_status_demo_json_lists_the_fleet_with_owners_and_failure_modes(tmp_path: Path) -> None:
    doc = status_json(tmp_path)
    fns = doc["functions"]
    assert len(fns) >= 40
    assert all(f["owner"] for f in fns)
    modes = {x["mode"] for f in fns for x in f["findings"]}
    assert len(modes) >= 6
    for f in fns:
        for finding in f["findings"]:
            assert any(ch.isdigit() for ch in finding["evidence"])
            assert finding["runbooks"]
    assert doc["backends"][0]["ok"] is True
    assert {"generated_at", "backends", "functions"} <= doc.keys()
    sample = fns[0]["signals"]
    for key in (
        "success_rate",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "rate_rps",
        "throttle_rate",
        "retry_rate",
        "cold_start_rate",
        "burn_rate_1h",
        "budget_remaining",
    ):
        assert key in sample


def test_two_fresh_runs_print_identical_fleets(tmp_path: Path) -> None:
    a = status_json(tmp_path / "a")
    b = status_json(tmp_path / "b")
    for doc in (a, b):  # times are relative to now; latency is measured
        doc.pop("generated_at")
        for backend in doc["backends"]:
            backend.pop("latency_ms")
        for f in doc["functions"]:
            for al in f["alerts"]:
                al.pop("since")
        for d in doc["deploys"]:
            d.pop("at")
    assert a == b


def test_no_data_is_null_never_zero_or_hundred_percent(tmp_path: Path) -> None:
    doc = status_json(tmp_path)
    http = [f for f in doc["functions"] if f["kind"] == "http"]
    assert http and all(f["signals"]["cold_start_rate"] is None for f in http)
    assert all(f["signals"]["queue_length"] is None for f in http)


def test_broken_config_names_file_and_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(
        "environment: {name: x}\nbackends:\n  - name: p\n    plugin: 3\nread_only: maybe\n"
    )
    code, _, err = run(["--config", str(cfg), "check"], capsys)
    assert code == 2
    assert f"{cfg}:4:" in err and "plugin" in err
    assert f"{cfg}:5:" in err and "read_only" in err
    assert "Traceback" not in err


def test_yaml_syntax_error_is_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("backends: [\n  {name: a, plugin: demo\n")
    code, _, err = run(["--config", str(cfg), "status"], capsys)
    assert code == 2
    assert str(cfg) in err and "Traceback" not in err


def test_unknown_plugin_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("backends:\n  - {name: prom, plugin: promethues, url: 'http://127.0.0.1:1'}\n")
    code, _, err = run(["--config", str(cfg), "check"], capsys)
    assert code == 2
    assert "promethues" in err and f"{cfg}:2" in err and "prometheus" in err
    code, _, err = run(["--config", str(cfg), "status", "--db", str(tmp_path / "x.db")], capsys)
    assert code == 2 and "promethues" in err


def test_check_with_no_config_is_ok(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check"], capsys)
    assert code == 0 and out.strip().endswith("ok")


def test_paths_prints_xdg_locations(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["paths"], capsys)
    assert code == 0
    assert str(isolated_env / "xdg" / "xdg_config_home" / "callboard" / "config.yaml") in out
    assert "callboard.db" in out


def test_secrets_set_list_delete_never_print_values(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import click

    monkeypatch.setattr(click, "prompt", lambda *a, **k: "s3cr3t-token-value")
    code, out, _ = run(["secrets", "set", "prom-token"], capsys)
    assert code == 0 and "s3cr3t" not in out
    code, out, _ = run(["secrets", "list"], capsys)
    assert "prom-token" in out and "s3cr3t" not in out
    code, out, _ = run(["secrets", "delete", "prom-token"], capsys)
    assert code == 0
    code, out, _ = run(["secrets", "list"], capsys)
    assert "prom-token" not in out


def test_secret_referenced_but_missing_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "backends:\n  - {name: prom, plugin: prometheus, url: 'http://127.0.0.1:9',"
        " auth: {bearer: {secret: prom-token}}}\n"
    )
    code, _, err = run(["--config", str(cfg), "--db", str(tmp_path / "x.db"), "status"], capsys)
    assert code == 2
    assert "prom-token" in err and "CALLBOARD_SECRET_PROM_TOKEN" in err


def test_demo_actions_persist_until_reset(tmp_path: Path) -> None:
    """An action applied in one process is seen by the next, until `demo reset`."""
    import asyncio

    from console.context import AppContext
    from console.core.model import ActionRequest

    db = str(tmp_path / "cb.db")

    def timeout_rate() -> float:
        app = AppContext(demo=True, db_path=db)
        fleet = app.fleet()
        snap = asyncio.run(fleet.refresh())
        app.close()
        return snap.by_id()["checkout:POST /pay"].signals.timeout_rate or 0.0

    assert timeout_rate() >= 0.02
    app = AppContext(demo=True, db_path=db)
    fleet = app.fleet()

    async def rollback() -> None:
        plan = await fleet.plan(ActionRequest("rollback", "checkout:POST /pay"))
        assert "v2.14.0" in plan.summary
        result = await fleet.execute(plan)
        assert result.ok

    asyncio.run(rollback())
    app.close()
    assert timeout_rate() < 0.02
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLBOARD_")}
    subprocess.run(
        [sys.executable, "-m", "console.cli", "--db", db, "demo", "reset"],
        check=True,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert timeout_rate() >= 0.02
