"""``callboard check`` rejects what every other command rejects, with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


BAD_BACKENDS = {
    "prometheus url not a string": "{name: p, plugin: prometheus, url: 5}",
    "prometheus without url": "{name: p, plugin: prometheus}",
    "catalog path not a string": "{name: c, plugin: catalog, path: 5}",
    "unreadable timeout": "{name: p, plugin: prometheus, url: 'http://127.0.0.1:9', timeout: abc}",
    "jaeger ftp url": "{name: j, plugin: jaeger, url: 'ftp://x'}",
    "kubernetes without context": "{name: k, plugin: kubernetes}",
    "custom preset without a requests metric": (
        "{name: p, plugin: prometheus, url: 'http://127.0.0.1:9', preset: custom}"
    ),
}


@pytest.mark.parametrize("backend", BAD_BACKENDS.values(), ids=list(BAD_BACKENDS))
def test_check_rejects_backend_configs_the_fleet_rejects(
    backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"environment: {{name: prod}}\nbackends:\n  - {backend}\n")
    code, _, err = run(["--config", str(cfg), "check"], capsys)
    assert code == 2
    assert f"{cfg}:3:" in err
    assert "Traceback" not in err
    # the same config is refused by status too: check agrees with it
    code, _, _ = run(["--config", str(cfg), "--db", str(tmp_path / "x.db"), "status"], capsys)
    assert code == 2


def test_a_missing_secret_is_a_note_not_a_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "backends:\n  - {name: prom, plugin: prometheus, url: 'http://127.0.0.1:9',"
        " auth: {bearer: {secret: prom-token}}}\n"
    )
    code, out, err = run(["--config", str(cfg), "check"], capsys)
    assert code == 0, err
    assert "prom-token" in out and "note" in out
    assert out.strip().endswith("ok")


def test_a_good_config_still_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "backends:\n  - {name: prom, plugin: prometheus, url: 'http://127.0.0.1:9', timeout: 2s}\n"
        "  - {name: j, plugin: jaeger, url: 'http://127.0.0.1:9'}\n"
    )
    code, out, err = run(["--config", str(cfg), "check"], capsys)
    assert code == 0, err
    assert out.strip().endswith("ok")
