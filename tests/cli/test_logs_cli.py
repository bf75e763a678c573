"""``callboard logs`` with a ``loki`` backend configured: a real loopback server answers
with Loki's documented shape (tests/fixtures/loki), merged with the embedded store; a
Loki that is down is named and the embedded records still print."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlparse

import pytest

from console.core.logmodel import LogRecord
from console.engine.otlp.logstore import LogStore
from console.engine.store.sqlite import Store
from tests.cli.test_trace_cli import closed_port, run
from tests.loopback import Quiet, serve

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "loki" / "query_range_categorized.json"
TRACE = "5b8efff798038103d269b633813fc60c"


class _Loki(Quiet):
    seen: ClassVar[list[dict[str, list[str]]]] = []

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if url.path != "/loki/api/v1/query_range":
            self.send_error(404)
            return
        type(self).seen.append({**parse_qs(url.query), "tenant": [self.headers["X-Scope-OrgID"]]})
        self.answer(FIXTURE.read_bytes())


@pytest.fixture
def loki() -> Iterator[str]:
    _Loki.seen = []
    with serve(_Loki) as url:
        yield url


def setup(tmp_path: Path, url: str) -> list[str]:
    store = Store(tmp_path / "cb.db")
    LogStore(store).add(
        [LogRecord(1715247552000000250, "from the embedded store", "checkout", "WARN", 13,
                   trace_id=TRACE, source="otlp")]
    )  # fmt: skip
    store.close()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"backends:\n  - {{name: loki, plugin: loki, url: '{url}', tenant: team-a, timeout: 3s}}\n"
    )
    return ["--config", str(cfg), "--db", str(tmp_path / "cb.db")]


def test_loki_and_the_embedded_store_answer_together(
    tmp_path: Path, loki: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = setup(tmp_path, loki)
    code, out, err = run([*args, "logs", "--trace", TRACE, "--json"], capsys)
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["errors"] == {}
    got = [(x["source"], x["severity"], x["body"]) for x in doc["logs"]]
    assert got == [
        ("loki", None, "user logged in"),
        ("loki", "INFO", "charging card msg=visa"),
        ("otlp", "WARN", "from the embedded store"),
        ("loki", "ERROR", "card declined"),
    ]  # oldest first, the two sources merged by time
    (asked,) = _Loki.seen
    assert asked["query"] == [f'{{service_name=~".+"}} | trace_id="{TRACE}"']
    assert asked["direction"] == ["backward"] and asked["tenant"] == ["team-a"]


def test_a_loki_that_is_down_is_named_and_the_rest_still_print(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = setup(tmp_path, f"http://127.0.0.1:{closed_port()}")
    code, out, err = run([*args, "logs", "--trace", TRACE, "--json"], capsys)
    assert code == 0
    assert "log source loki failed:" in err and "connection refused" in err
    doc = json.loads(out)
    assert [x["body"] for x in doc["logs"]] == ["from the embedded store"]
    assert "connection refused" in doc["errors"]["loki"]
