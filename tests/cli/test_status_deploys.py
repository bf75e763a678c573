"""``status --json`` deploys: one entry per deploy, naming its service and the functions it
affects — not one copy per function with the service name in ``function_id``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from console.cli import main
from console.core.model import SLO, Deploy, Function, Signals
from console.core.snapshot import FleetSnapshot, FunctionHealth
from console.core.statusjson import snapshot_json

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def fn(fid: str) -> FunctionHealth:
    service, _, op = fid.partition(":")
    return FunctionHealth(Function(fid, service, op, slo=SLO(0.999, "30d")), Signals())


def test_a_service_deploy_is_one_entry_naming_its_service_and_functions() -> None:
    pay, cart = "checkout:POST /pay", "checkout:GET /cart"
    svc = Deploy("checkout", "v2.14.0", "2026-11-26T20:40:00Z", "maya", previous_version="v2.13.2")
    one = Deploy("search:serverless query", "config r118", "2026-11-26T19:00:00Z")
    snap = FleetSnapshot(
        "2026-11-26T21:00:00Z",
        (fn(pay), fn(cart), fn("search:serverless query")),
        (),
        deploys={pay: (svc,), cart: (svc,), "search:serverless query": (one,)},
    )
    deploys = snapshot_json(snap)["deploys"]
    assert deploys == [
        {"service": "checkout", "functions": [cart, pay], "function_id": None,
         "version": "v2.14.0", "previous_version": "v2.13.2", "at": "2026-11-26T20:40:00Z",
         "author": "maya", "description": ""},
        {"service": "search", "functions": ["search:serverless query"],
         "function_id": "search:serverless query", "version": "config r118",
         "previous_version": None, "at": "2026-11-26T19:00:00Z", "author": "",
         "description": ""},
    ]  # fmt: skip


def test_demo_status_json_lists_each_deploy_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--db", str(tmp_path / "cb.db"), "status", "--demo", "--json"])
    assert exc.value.code == 0
    doc = json.loads(capsys.readouterr().out)
    services = {f["id"]: f["service"] for f in doc["functions"]}
    keys = [(d["service"], d["version"], d["at"]) for d in doc["deploys"]]
    assert len(keys) == len(set(keys)), "a deploy is listed more than once"
    bad = next(d for d in doc["deploys"] if d["version"] == "v2.14.0")
    assert bad["service"] == "checkout" and bad["function_id"] is None
    assert set(bad["functions"]) == {f for f, s in services.items() if s == "checkout"}
    for d in doc["deploys"]:
        assert d["functions"] and all(services[f] == d["service"] for f in d["functions"])
        assert d["function_id"] in (None, *services)  # never a service name


def _readme_status_example() -> dict:
    section = README[README.index("### `status --json`") :]
    block = re.search(r"```json\n(.*?)```", section, re.S)
    assert block is not None
    return json.loads(block.group(1))


def test_the_readme_example_has_the_deploy_fields_status_prints() -> None:
    example = _readme_status_example()["deploys"][0]
    snap = FleetSnapshot(
        "t", (fn("a:op"),), (), deploys={"a:op": (Deploy("a", "v1", "2026-01-01T00:00:00Z"),)}
    )
    assert set(example) == set(snapshot_json(snap)["deploys"][0])
    assert isinstance(example["functions"], list) and example["service"]


def test_the_readme_documents_every_alert_state_the_backends_emit() -> None:
    section = README[README.index("### `status --json`") : README.index("## Configuration")]
    for state in ("firing", "silenced", "suppressed"):
        assert f"`{state}`" in section, state
    assert '"state": "active"' not in section  # Alertmanager's word; Callboard says firing
