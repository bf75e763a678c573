"""Hostile YAML (alias bombs, deep nesting, huge files) is a located error, exit 2, at once.

Each file goes through the commands an operator runs — ``callboard check`` and
``status --config`` — and through a runbook folder and the catalog plugin.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli import main
from console.errors import ConfigError
from console.yamlload import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    load_yaml_all,
    load_yaml_text,
)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    return int(exc.value.code or 0), capsys.readouterr().err


def laughs(key: str = "x") -> str:
    """Nine-fold aliases nine deep: 9**10 nodes from 10 short lines (line 7 passes 1,000,000)."""
    lines = [f'{key}0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"{key}{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


DEEP_FLOW = "x: " + "[" * 20_000 + "]" * 20_000 + "\n"
DEEP_BLOCK = "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n"


def huge(prefix: str) -> str:
    """A 12 MB file of plausible steps (it took 67 s and 970 MB to check before)."""
    step = "  - {id: s%d, kind: command, run: [echo, hello]}\n"
    return prefix + "".join(step % i for i in range(12_000_000 // len(step)))


HOSTILE = {
    "billion laughs": (laughs(), "aliases expand to more than", 7),
    "20,000-deep flow nesting": (DEEP_FLOW, f"nested deeper than {MAX_DEPTH} levels", 1),
    "200-deep block nesting": (DEEP_BLOCK, f"nested deeper than {MAX_DEPTH} levels", MAX_DEPTH),
    "12 MB file": (huge("steps:\n"), "file larger than 1 MiB", None),
}


@pytest.mark.parametrize(("text", "said", "line"), HOSTILE.values(), ids=list(HOSTILE))
def test_check_and_status_refuse_a_hostile_config_with_file_and_line(
    text: str, said: str, line: int | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(text)
    where = f"{cfg}:{line}: " if line else f"{cfg}: "
    for command in (["check"], ["--db", str(tmp_path / "x.db"), "status"]):
        code, err = run(["--config", str(cfg), *command], capsys)
        assert code == 2, err
        assert where + said in err
        assert "Traceback" not in err and "RecursionError" not in err


@pytest.mark.parametrize(("text", "said", "line"), HOSTILE.values(), ids=list(HOSTILE))
def test_check_refuses_a_hostile_runbook_with_file_and_line(
    text: str, said: str, line: int | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "runbooks"
    folder.mkdir()
    book = folder / "evil.yaml"
    book.write_text(text)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"runbooks: [{folder}]\n")
    code, err = run(["--config", str(cfg), "check"], capsys)
    assert code == 2, err
    assert (f"{book}:{line}: " if line else f"{book}: ") + said in err


CATALOG_HOSTILE = {
    "billion laughs": (laughs("k"), "aliases expand to more than", 7),
    "20,000-deep nesting": (DEEP_FLOW, f"nested deeper than {MAX_DEPTH} levels", 1),
    "9 MB catalog": ("x" * (9 * 1024 * 1024), "file larger than 8 MiB", None),
}


@pytest.mark.parametrize(
    ("text", "said", "line"), CATALOG_HOSTILE.values(), ids=list(CATALOG_HOSTILE)
)
def test_the_catalog_plugin_refuses_a_hostile_catalog_file(
    text: str, said: str, line: int | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog-info.yaml"
    catalog.write_text("apiVersion: backstage.io/v1alpha1\nkind: Component\n---\n" + text)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"backends:\n  - {{name: cat, plugin: catalog, path: '{catalog}'}}\n")
    for command in (["check"], ["--db", str(tmp_path / "x.db"), "status"]):
        code, err = run(["--config", str(cfg), *command], capsys)
        assert code == 2, err
        assert said in err and str(catalog) in err
        if line is not None:
            assert f"{catalog}:{line + 3}:" in err  # the hostile document starts at line 4


def test_a_catalog_may_be_larger_than_a_config(tmp_path: Path) -> None:
    """Over 1 MiB of ordinary entities loads: only configs and runbooks have that limit."""
    about = "x" * 4000  # long descriptions: big, but cheap to parse
    entity = "---\nkind: Component\nmetadata: {name: svc%d, description: " + about + "}\n"
    catalog = tmp_path / "catalog-info.yaml"
    catalog.write_text("".join(entity % i for i in range(MAX_FILE_BYTES // 4000 + 10)))
    assert catalog.stat().st_size > MAX_FILE_BYTES
    assert len(load_yaml_all(catalog)) == MAX_FILE_BYTES // 4000 + 10


def test_ordinary_aliases_and_nesting_still_load() -> None:
    data, lines = load_yaml_text(
        "base: &b {timeout: 5s, retries: 2}\n"
        "a: {<<: *b, url: 'http://a'}\n"
        "list: [*b, *b]\n" + "deep: " + "[" * (MAX_DEPTH - 2) + "1" + "]" * (MAX_DEPTH - 2) + "\n"
    )
    assert data["a"] == {"timeout": "5s", "retries": 2, "url": "http://a"}
    assert data["list"] == [data["base"], data["base"]]
    assert lines.of(("a",)) == 2


def test_the_node_limit_counts_each_alias_as_its_whole_subtree() -> None:
    """Just under the limit loads; one more expansion level is refused before constructing."""
    side = 1000  # 1000 × 1000 ≈ MAX_NODES
    row = "[" + ",".join(["1"] * (side - 2)) + "]"
    ok = f"r: &r {row}\nm: [" + ",".join(["*r"] * (MAX_NODES // side - 2)) + "]\n"
    load_yaml_text(ok)
    over = f"r: &r {row}\nm: [" + ",".join(["*r"] * (MAX_NODES // side + 2)) + "]\n"
    with pytest.raises(ConfigError, match="aliases expand to more than"):
        load_yaml_text(over)
