"""The catalog on real Backstage files (tests/fixtures/backstage/, see its README): Locations
followed, namespaces kept, invalid entities reported with file:line, tiers from real keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from callboard_catalog import CatalogPlugin
from callboard_catalog.walk import walk

from console.core.model import Function
from console.plugin_api import PluginContext

FIXTURES = Path(__file__).parents[1] / "fixtures" / "backstage"
EXAMPLES = FIXTURES / "examples"
ROOT = EXAMPLES / "all-components.yaml"  # a root Location with 13 targets


def ctx() -> PluginContext:
    return PluginContext(http=None, secret=lambda n: n, clock=lambda: 0.0)


def write(p: Path, text: str) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def component(name: str, extra: str = "", meta: str = "") -> str:
    return (
        f"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n{meta}"
        f"spec:\n  type: service\n  lifecycle: production\n  owner: team-x\n{extra}"
    )


def location(*targets: str) -> str:
    items = "".join(f"    - {t}\n" for t in targets)
    return f"apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: root\nspec:\n  targets:\n{items}"


async def loaded(path: str | list[str]) -> tuple[dict[str, Function], tuple[str, ...]]:
    plugin = CatalogPlugin("cat", {"path": path}, ctx())
    fns = {f.id: f for f in await plugin.functions()}
    return fns, (await plugin.check()).warnings


async def test_a_root_location_is_followed_to_every_component() -> None:
    fns, warnings = await loaded(str(ROOT))
    assert len(fns) == 13 and warnings == ()
    a = fns["artist-lookup"]
    assert (a.owner, a.system, a.lifecycle) == (
        "team-a",
        "artist-engagement-portal",
        "experimental",
    )
    assert (fns["searcher"].owner, fns["searcher"].system) == ("user:guest", None)
    assert fns["playback-sdk"].system == "audio-playback"  # name differs from the file name
    assert all(f.owner and f.lifecycle for f in fns.values())
    assert {f.lifecycle for f in fns.values()} == {"production", "experimental"}


async def test_namespaces_are_kept_and_depends_on_resolves_to_ids(tmp_path: Path) -> None:
    shop = component(
        "checkout",
        "  dependsOn:\n    - component:default/Artist-Lookup\n    - resource:default/artists-db\n"
        "    - component:payments\n    - artists-db\n",
        meta="  namespace: shop\n",
    )
    write(tmp_path / "shop" / "checkout.yaml", shop)
    write(tmp_path / "shop" / "payments.yaml", component("payments", meta="  namespace: shop\n"))
    root = write(
        tmp_path / "cat" / "catalog-info.yaml",
        location(
            "../shop/",  # a directory, relative to this file's folder
            str(ROOT),  # a Location of Locations
            str(EXAMPLES / "all-resources.yaml"),
            str(EXAMPLES / "components" / "different-namespace.yaml"),
        ),
    )
    fns, warnings = await loaded(str(root))
    assert "shop/checkout" in fns and "shop/payments" in fns
    c = fns["shop/checkout"]
    assert (c.service, c.owner) == ("checkout", "shop/team-x")  # the entity's namespace
    assert c.dependencies == ("artist-lookup", "resource:artists-db", "shop/payments")
    assert all(d in fns for d in c.dependencies if not d.startswith("resource:"))
    alt = fns["alternative/different-namespace"]
    assert (alt.service, alt.owner) == ("different-namespace", "team-a")  # default/ elided
    assert len(fns) == 16
    assert warnings == (
        f"{tmp_path / 'shop' / 'checkout.yaml'}:14: reference 'artists-db' needs a "
        "kind, e.g. component:artists-db",
    )


async def test_a_location_cycle_terminates_with_a_warning(tmp_path: Path) -> None:
    a = write(tmp_path / "a.yaml", location("./b/b.yaml") + "---\n" + component("svc-a"))
    write(tmp_path / "b" / "b.yaml", location("../a.yaml", "./c.yaml"))
    write(tmp_path / "b" / "c.yaml", component("svc-c"))
    fns, warnings = await loaded(str(a))
    assert set(fns) == {"svc-a", "svc-c"}
    assert len(warnings) == 1 and "Location cycle" in warnings[0] and str(a) in warnings[0]


async def test_network_and_missing_targets_are_reported_not_followed(tmp_path: Path) -> None:
    root = write(
        tmp_path / "catalog-info.yaml",
        location(
            "https://github.com/backstage/backstage/blob/master/catalog-info.yaml",
            "./nope.yaml",
            "./services/",
            "./teams/*/catalog-info.yaml",
            "./a**b.yaml",
        ),
    )
    write(tmp_path / "services" / "x" / "catalog-info.yaml", component("x"))
    write(tmp_path / "teams" / "a" / "catalog-info.yaml", component("y"))
    write(tmp_path / "services" / "openapi.yaml", "openapi: 3.0.0\ninfo: {title: x}\n")
    fns, warnings = await loaded(str(root))
    assert set(fns) == {"x", "y"}
    assert warnings[0] == (
        f"{root}:7: Location target 'https://github.com/backstage/backstage/blob/master/"
        "catalog-info.yaml' not followed (Callboard reads local files only)"
    )
    assert warnings[1].startswith(f"{root}:8: Location target './nope.yaml' not found")
    assert warnings[2].startswith(f"{root}:11: Location target './a**b.yaml' not followed: ")
    assert "openapi.yaml:1: expected a list of functions" in warnings[3]
    assert "not a catalog file, skipped" in warnings[3] and len(warnings) == 4


def test_the_number_of_files_followed_is_bounded(tmp_path: Path) -> None:
    for i in range(10):
        nxt = f"./l{i + 1}.yaml"
        write(tmp_path / f"l{i}.yaml", location(nxt) + "---\n" + component(f"s{i}"))
    cat = walk([str(tmp_path / "l0.yaml")], "cat", max_files=4)
    assert [f.id for f in cat.parsed.functions] == ["s0", "s1", "s2", "s3"]
    assert cat.parsed.warnings == [
        f"{tmp_path / 'l4.yaml'}: stopped following Locations after 4 files"
    ]


async def test_an_invalid_entity_name_is_a_warning_with_file_and_line() -> None:
    bad = EXAMPLES / "components" / "invalid-component.yaml"
    fns, warnings = await loaded(str(bad))
    assert fns == {}
    assert warnings == (
        f"{bad}:4: Component metadata.name 'invalid component' must be [a-zA-Z0-9] separated by one "
        "of -_.; entity skipped",
        "catalog is empty",
    )


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {}\n",
            3,
            "metadata.name is required",
        ),
        ("apiVersion: backstage.io/v1alpha1\nmetadata: {name: x}\n", 1, "kind is required"),
        (
            "apiVersion: backstage.io/v2\nkind: Component\nmetadata: {name: x}\n",
            1,
            "unknown apiVersion",
        ),
        (component("x" * 64), 4, "longer than 63"),
        ("apiVersion: [1]\nkind: Component\n", 1, "unknown apiVersion [1]"),
        ("apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: 7}\n", 3, "string"),
        (component("x", meta="  namespace: Shop\n"), 5, "lowercase DNS label"),
    ],
)
async def test_invalid_entities_are_warnings(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    p = write(tmp_path / "catalog-info.yaml", text + "---\n" + component("ok"))
    fns, warnings = await loaded(str(p))
    assert set(fns) == {"ok"}
    assert len(warnings) == 1 and warnings[0].startswith(f"{p}:{line}: ") and words in warnings[0]


async def test_tier_from_real_annotations_labels_and_tags(tmp_path: Path) -> None:
    real = FIXTURES / "contentful-management.js" / "catalog-info.yaml"
    fns, warnings = await loaded(str(real))
    assert fns["contentful-management.js"].tier == 4 and warnings == ()
    p = write(
        tmp_path / "catalog-info.yaml",
        "---\n".join(
            [
                component("tagged", meta="  tags: [java, tier-1]\n"),
                component("labelled", meta="  labels: {tier: t2}\n"),
                component("layer", meta="  labels: {tier: backend}\n"),
                component("plain"),
            ]
        ),
    )
    fns, warnings = await loaded(str(p))
    assert [fns[n].tier for n in ("tagged", "labelled", "layer", "plain")] == [1, 2, None, None]
    assert warnings == (
        f"{p}:25: metadata.labels.tier: 'backend' is not a tier number; tier left empty",
    )


async def test_an_edit_to_a_followed_file_is_picked_up(tmp_path: Path) -> None:
    import os

    root = write(tmp_path / "catalog-info.yaml", location("./svc/catalog-info.yaml"))
    target = write(tmp_path / "svc" / "catalog-info.yaml", component("before"))
    plugin = CatalogPlugin("cat", {"path": str(root)}, ctx())
    assert [f.id for f in await plugin.functions()] == ["before"]
    target.write_text(component("after"))
    os.utime(target, (1e9, 1e9))
    assert [f.id for f in await plugin.functions()] == ["after"]
    target.write_text(component("bad name"))
    os.utime(target, (2e9, 2e9))
    assert await plugin.functions() == []
    assert plugin.warnings == (
        f"{target}:4: Component metadata.name 'bad name' must be [a-zA-Z0-9] separated by one "
        "of -_.; entity skipped",
    )
