"""What a user sees of a Backstage catalog: system, lifecycle and dependencies on the function
screen and in ``status --json``, and the catalog's warnings on its backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from callboard_catalog import CatalogPlugin

from console.cli import main
from console.engine.fleet.refresh import Backend, Fleet
from console.plugin_api import PluginContext
from console.tui.app import CallboardApp
from console.tui.screens.function import FunctionScreen
from tests.tui.test_tui import SIZE, screen_text, settled

EXAMPLES = Path(__file__).parents[1] / "fixtures" / "backstage" / "examples"
CHECKOUT = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  namespace: shop
  tags: [tier-1]
spec:
  type: service
  lifecycle: production
  owner: payments
  system: commerce
  dependsOn: [component:default/artist-lookup, resource:default/artists-db]
---
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: examples}
spec:
  targets: [ROOT, RESOURCES, INVALID]
"""


def catalog(tmp_path: Path) -> Path:
    text = (
        CHECKOUT.replace("ROOT", str(EXAMPLES / "all-components.yaml"))
        .replace("RESOURCES", str(EXAMPLES / "all-resources.yaml"))
        .replace("INVALID", str(EXAMPLES / "components" / "invalid-component.yaml"))
    )
    p = tmp_path / "catalog-info.yaml"
    p.write_text(text)
    return p


def test_status_json_has_system_lifecycle_dependencies_and_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"backends:\n  - {{name: cat, plugin: catalog, path: '{catalog(tmp_path)}'}}\n")
    with pytest.raises(SystemExit) as exc:
        main(["--config", str(cfg), "--db", str(tmp_path / "cb.db"), "status", "--json"])
    assert exc.value.code in (0, None)
    doc = json.loads(capsys.readouterr().out)
    fns = {f["id"]: f for f in doc["functions"]}
    assert len(fns) == 14
    c = fns["shop/checkout"]
    assert (c["owner"], c["tier"], c["system"], c["lifecycle"]) == (
        "shop/payments",
        1,
        "shop/commerce",
        "production",
    )
    assert c["dependencies"] == ["artist-lookup", "resource:artists-db"]
    assert fns["artist-lookup"]["dependencies"] == []
    (cat,) = [b for b in doc["backends"] if b["name"] == "cat"]
    assert cat["ok"] is True and len(cat["warnings"]) == 1
    assert (
        "invalid-component.yaml:4: Component metadata.name 'invalid component'"
        in (cat["warnings"][0])
    )


async def test_the_function_screen_shows_system_lifecycle_and_dependencies(
    tmp_path: Path,
) -> None:
    ctx = PluginContext(http=None, secret=lambda n: n, clock=lambda: 0.0)
    plugin = CatalogPlugin("cat", {"path": str(catalog(tmp_path))}, ctx)
    fleet = Fleet([Backend("cat", "catalog", plugin)], clock=lambda: 0.0, attempts=1)
    app = CallboardApp(fleet, refresh_interval=3600)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        app.open_function("shop/checkout")
        await pilot.pause()
        assert isinstance(app.screen, FunctionScreen)
        text = screen_text(app)
        assert "owner shop/payments" in text and "tier 1" in text
        assert "system shop/commerce   lifecycle production" in text
        deps = text.split("Dependencies", 1)[1].split("Recent deploys", 1)[0]
        assert "artist-lookup" in deps and "resource:artists-db" in deps
