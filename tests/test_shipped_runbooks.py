"""Every shipped runbook passes ``callboard check`` and, run with --yes against the demo
fleet on a function showing its failure mode, clears that failure mode."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from console.cli import main
from console.config import Config
from console.core.diagnose import DEFAULT_RUNBOOKS
from console.core.model import FailureMode
from console.engine.fleet.build import build_fleet
from console.engine.runbooks.catalog import load_catalog
from console.engine.store.sqlite import Store

SHIPPED = Path(__file__).resolve().parent.parent / "runbooks"

#: runbook id -> (demo function showing its mode, params).
CASES: dict[str, tuple[str, list[str]]] = {
    "rollback-bad-deploy": ("checkout:POST /pay", []),
    "throttle-caller": ("inventory:rpc Reserve", ["caller=orders:worker reserve-stock", "rps=50"]),
    "retry-storm-throttle": ("orders:worker reserve-stock", ["rps=50"]),
    "cold-start-scale-up": ("search:serverless query", []),
    "partial-failure-drain": ("cart:rpc GetCart", []),
    "auth-rollback-secret": ("notifications:worker email-send", []),
    "resource-scale-out": ("reports:job nightly", ["replicas=3"]),
    "serialization-rollback": ("profile:PUT /profile", []),
    "dependency-circuit-open": ("payments:rpc Authorize", ["dependency=bank-gateway"]),
    "cost-runaway-throttle": ("media:serverless resize-image", ["rps=12"]),
}


def cb(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def modes(db: Path, fid: str) -> set[FailureMode]:
    return asyncio.run(_modes(db, fid))


async def _modes(db: Path, fid: str) -> set[FailureMode]:
    store = Store(db)
    fleet = build_fleet(Config.demo_only(), store=store)
    try:
        return {f.mode for f in (await fleet.refresh()).by_id()[fid].findings}
    finally:
        await fleet.aclose()
        store.close()


def test_every_failure_mode_has_its_shipped_runbooks_and_check_passes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    entries = load_catalog([SHIPPED])
    assert all(e.runbook is not None for e in entries), [e.errors for e in entries]
    ids = {e.runbook.id: e.runbook for e in entries if e.runbook}
    for mode, wanted in DEFAULT_RUNBOOKS.items():
        for rb_id in wanted:
            assert rb_id in ids and mode in ids[rb_id].failure_modes
    assert set(CASES) == set(ids)
    code, out, err = cb(capsys, "--db", str(tmp_path / "db"), "check")
    assert code == 0, err
    assert "runbooks: 10 valid" in out


@pytest.mark.parametrize("rb_id", sorted(CASES))
def test_a_shipped_runbook_clears_its_failure_mode_on_the_demo(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, rb_id: str
) -> None:
    fid, params = CASES[rb_id]
    db = tmp_path / "cb.db"
    mode = next(m for m, ids in DEFAULT_RUNBOOKS.items() if rb_id in ids)
    assert mode in modes(db, fid)
    args = ["--db", str(db), "run", rb_id, "--function", fid, "--yes", "--json"]
    for p in params:
        args += ["--param", p]
    code, out, err = cb(capsys, *args)
    doc = json.loads(out)
    assert code == 0, (doc, err)
    assert doc["status"] == "succeeded"
    assert all(s["status"] == "done" for s in doc["steps"])
    kinds = [s["kind"] for s in doc["steps"]]
    assert kinds[0] == "check" and "action" in kinds and "verify" in kinds and kinds[-1] == "note"
    assert mode not in modes(db, fid)
