"""``callboard traces`` / ``callboard trace`` as a user meets them: failing sources are
named, JSON stays valid, bad input is refused."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from console.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def closed_port() -> int:
    """A loopback port nothing listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(tmp_path: Path, *backends: str) -> list[str]:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("backends:\n" + "".join(f"  - {b}\n" for b in backends))
    return ["--config", str(cfg), "--db", str(tmp_path / "cb.db")]


def jaeger(name: str = "jaeger") -> str:
    return f"{{name: {name}, plugin: jaeger, url: 'http://127.0.0.1:{closed_port()}', timeout: 2s}}"


def prometheus() -> str:
    return f"{{name: prom, plugin: prometheus, url: 'http://127.0.0.1:{closed_port()}'}}"


def test_a_failing_trace_source_is_named_on_stderr_and_in_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = config(tmp_path, jaeger(), prometheus())
    code, out, err = run([*args, "traces", "checkout", "--json"], capsys)
    doc = json.loads(out)
    assert doc["traces"] == []
    assert list(doc["errors"]) == ["jaeger"]
    assert "connection refused" in doc["errors"]["jaeger"]
    assert "jaeger" in err and "connection refused" in err
    assert code == 0  # the embedded span store still answered


def test_traces_exits_1_when_every_trace_source_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import console.commands.traces as traces_cmd
    from console.context import AppContext
    from console.engine.fleet.build import build_fleet

    args = config(tmp_path, jaeger("j1"), jaeger("j2"))
    code, _, _ = run([*args, "traces", "checkout"], capsys)
    assert code == 0  # the embedded span store answered: not every source failed

    def only_configured(app: AppContext) -> object:
        return build_fleet(app.config, store=app.store)

    monkeypatch.setattr(traces_cmd, "trace_fleet", only_configured)
    code, _, err = run([*args, "traces", "checkout"], capsys)
    assert code == 1
    assert "trace source j1 failed" in err and "trace source j2 failed" in err


def test_trace_not_found_names_only_trace_sources_and_their_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = config(tmp_path, prometheus(), jaeger())
    code, _, err = run([*args, "trace", "4bf92f3577b34da6a3ce929d0e0e4736"], capsys)
    assert code == 1
    assert "not found (asked: otlp, jaeger)" in err
    assert "prom" not in err.split("asked:")[1]
    assert "trace source jaeger failed" in err and "connection refused" in err


def strict_json(text: str) -> dict:
    """Parse as strict JSON (what jq does): NaN/Infinity literals are refused."""

    def refuse(name: str) -> None:
        raise ValueError(f"invalid JSON literal {name}")

    doc: dict = json.loads(text, parse_constant=refuse)
    return doc


def test_trace_json_with_nan_and_inf_attributes_is_valid_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import time

    from console.core.model import Span
    from console.engine.otlp.spanstore import SpanStore
    from console.engine.store.sqlite import Store

    db = tmp_path / "cb.db"
    tid = "0af7651916cd43dd8448eb211c80319c"
    store = Store(str(db))
    attrs = {"ratio": float("nan"), "max": float("inf"), "min": float("-inf"), "n": 1.5}
    now = time.time_ns()
    SpanStore(store).add(
        [Span(tid, "00f067aa0ba902b7", None, "checkout", "pay", now, 10, attributes=attrs)]
    )
    store.close()
    code, out, err = run(["--db", str(db), "trace", tid, "--json"], capsys)
    assert code == 0, err
    doc = strict_json(out)
    assert doc["spans"][0]["attributes"] == {
        "ratio": "NaN",
        "max": "Infinity",
        "min": "-Infinity",
        "n": 1.5,
    }
    assert doc["errors"] == {}


@pytest.mark.parametrize("since", ["99999999999999999999999d", "401d", "0s"])
def test_since_out_of_range_is_refused_clearly(
    since: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        ["--db", str(tmp_path / "cb.db"), "traces", "checkout", "--since", since], capsys
    )
    assert code == 2
    assert "--since" in err and "400d" in err
    assert out == ""
