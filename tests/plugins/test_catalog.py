"""The catalog: function lists, Backstage entities, located errors, merging."""

from __future__ import annotations

from pathlib import Path

import pytest
from callboard_catalog import CatalogPlugin

from console.core.model import Function, Kind
from console.engine.fleet.inventory import merge_functions
from console.errors import BadResponse, ConfigError
from console.plugin_api import PluginContext

BACKSTAGE = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  labels: {tier: "1"}
  annotations:
    runbook_url: https://runbooks.example/checkout
    pagerduty.com/service-id: PX1
spec:
  type: service
  owner: group:default/payments
  lifecycle: production
  system: shop
  dependsOn: [component:default/payments-db, resource:ledger]
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: orders-api}
spec: {type: grpc, owner: team-orders, lifecycle: beta}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments}
spec: {type: team}
"""
LIST = """\
- service: api
  operation: POST /orders
  owner: platform
  tier: 2
  slo: {objective: 0.995, window: 28d}
  runbooks: [throttling]
- {service: worker, kind: worker, oncall: "#ops"}
"""


def ctx() -> PluginContext:
    return PluginContext(http=None, secret=lambda n: n, clock=lambda: 0.0)


def write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


async def test_backstage_entities(tmp_path: Path) -> None:
    p = write(tmp_path, "catalog-info.yaml", BACKSTAGE)
    fns = {f.id: f for f in await CatalogPlugin("cat", {"path": str(p)}, ctx()).functions()}
    assert set(fns) == {"checkout", "orders-api"}
    c = fns["checkout"]
    assert (c.owner, c.tier, c.oncall, c.operation) == ("payments", 1, "pagerduty:PX1", "")
    assert c.runbooks == ("https://runbooks.example/checkout",)
    assert c.dependencies == ("payments-db", "resource:ledger")
    assert (c.system, c.lifecycle) == ("shop", "production")
    assert fns["orders-api"].kind is Kind.RPC and fns["orders-api"].owner == "team-orders"


async def test_list_and_directory(tmp_path: Path) -> None:
    write(tmp_path / "cat", "a/catalog-info.yaml", BACKSTAGE)
    write(tmp_path / "cat", "b/functions.yml", LIST)
    write(tmp_path / "cat", "README.md", "not yaml: [")
    fns = {
        f.id: f
        for f in await CatalogPlugin("cat", {"path": [str(tmp_path / "cat")]}, ctx()).functions()
    }
    api = fns["api:POST /orders"]
    assert (api.owner, api.tier, api.slo.objective, api.slo.window) == ("platform", 2, 0.995, "28d")
    assert fns["worker"].kind is Kind.WORKER and fns["worker"].oncall == "#ops"


async def test_component_owner_merges_onto_discovered_functions(tmp_path: Path) -> None:
    p = write(tmp_path, "catalog-info.yaml", BACKSTAGE)
    catalog = await CatalogPlugin("cat", {"path": str(p)}, ctx()).functions()
    discovered = [
        Function(id="checkout:POST /pay", service="checkout", operation="POST /pay", source="prom")
    ]
    merged = {f.id: f for f in merge_functions([discovered, catalog])}
    assert "checkout" not in merged
    assert merged["checkout:POST /pay"].owner == "payments"
    assert merged["checkout:POST /pay"].tier == 1
    pay = merged["checkout:POST /pay"]
    assert (pay.system, pay.lifecycle, pay.dependencies) == (
        "shop",
        "production",
        ("payments-db", "resource:ledger"),
    )


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("- {service: a}\n- {owner: x}\n", 2, "missing 'service'"),
        ("- service: a\n  tier: high\n", 2, "tier must be a whole number"),
        ("- service: a\n  colour: red\n", 2, "unknown key"),
        ("- service: a\n  slo: {objective: 2}\n", 2, "between 0 and 1"),
        ("- service: a\n  kind: lambda\n", 2, "unknown kind"),
        ("- service: a\n  runbooks: {x: 1}\n", 2, "list of strings"),
        ("- service: a\n  owner: [unclosed\n", 3, "invalid YAML"),
        ("just a string\n", 1, "expected a list of functions"),
    ],
)
def test_bad_catalog_is_located(tmp_path: Path, text: str, line: int, words: str) -> None:
    p = write(tmp_path, "functions.yaml", text)
    with pytest.raises(ConfigError) as exc:
        CatalogPlugin("cat", {"path": str(p)}, ctx())
    assert exc.value.path == str(p) and exc.value.line == line
    assert words in str(exc.value)


def test_missing_path_and_bad_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        CatalogPlugin("cat", {"path": str(tmp_path / "nope.yaml")}, ctx())
    with pytest.raises(ConfigError, match="path"):
        CatalogPlugin("cat", {"path": 3}, ctx())


async def test_reloads_on_change_and_reports_a_bad_edit(tmp_path: Path) -> None:
    p = write(tmp_path, "functions.yaml", LIST)
    plugin = CatalogPlugin("cat", {"path": str(p)}, ctx())
    assert len(await plugin.functions()) == 2
    p.write_text("- {service: only}\n")
    import os

    os.utime(p, (1e9, 1e9))
    assert [f.id for f in await plugin.functions()] == ["only"]
    p.write_text("- {owner: x}\n")
    os.utime(p, (2e9, 2e9))
    with pytest.raises(BadResponse, match="missing 'service'"):
        await plugin.functions()
    assert not (await plugin.check()).ok
