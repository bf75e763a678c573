"""Pure mapping from catalog YAML documents to Functions. No I/O.

Two document shapes are read, in any mix, one or more per file:

- **Callboard lists**: a YAML list (or ``{functions: [...]}``) of mappings with ``service``
  (required), ``operation``, ``kind``, ``owner``, ``oncall``, ``tier``, ``slo``
  (``{objective, window, latency_p99_ms}``), ``runbooks``, ``dependencies``, ``labels``.
  A bad entry stops the file with a located :class:`ConfigError`.
- **Backstage entities** (a mapping with ``apiVersion``): see :mod:`.entity`; a bad entity
  is skipped with a located warning, as Backstage itself would reject it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from console.core.model import SLO, Function, Kind
from console.errors import ConfigError
from console.yamlload import LineMap, format_path

from .entity import Parsed, entity

_FIELDS = {
    "id",
    "service",
    "operation",
    "kind",
    "owner",
    "oncall",
    "tier",
    "slo",
    "runbooks",
    "dependencies",
    "labels",
}


class _Doc:
    """One document with its path and line map, for located errors."""

    def __init__(self, path: str, lines: LineMap) -> None:
        self.path = path
        self.lines = lines

    def error(self, where: tuple[Hashable, ...], message: str) -> ConfigError:
        return ConfigError(
            f"{format_path(where)}: {message}" if where else message,
            self.path,
            self.lines.of(where),
        )


def _strings(value: Any, doc: _Doc, where: tuple[Hashable, ...]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise doc.error(where, "expected a list of strings")
    return tuple(value)


def _tier(value: Any, doc: _Doc, where: tuple[Hashable, ...]) -> int | None:
    if value is None:
        return None
    try:
        tier = int(str(value).strip().removeprefix("tier").removeprefix("-"))
    except ValueError:
        raise doc.error(where, f"tier must be a whole number, got {value!r}") from None
    return tier


def _slo(value: Any, doc: _Doc, where: tuple[Hashable, ...]) -> SLO:
    if value is None:
        return SLO()
    if not isinstance(value, Mapping):
        raise doc.error(where, "expected {objective, window, latency_p99_ms}")
    objective = value.get("objective", 0.999)
    if (
        isinstance(objective, bool)
        or not isinstance(objective, int | float)
        or not 0 < objective < 1
    ):
        raise doc.error(
            (*where, "objective"), f"expected a fraction between 0 and 1, got {objective!r}"
        )
    p99 = value.get("latency_p99_ms")
    if p99 is not None and (isinstance(p99, bool) or not isinstance(p99, int | float)):
        raise doc.error((*where, "latency_p99_ms"), f"expected milliseconds, got {p99!r}")
    return SLO(
        float(objective), str(value.get("window", "30d")), None if p99 is None else float(p99)
    )


def listed(item: Any, doc: _Doc, where: tuple[Hashable, ...], source: str) -> Function:
    """One entry of a Callboard function list."""
    if not isinstance(item, Mapping):
        raise doc.error(where, "expected a mapping with at least 'service'")
    unknown = sorted(str(k) for k in item if k not in _FIELDS)
    if unknown:
        raise doc.error(
            (*where, unknown[0]), f"unknown key (expected: {', '.join(sorted(_FIELDS))})"
        )
    service = item.get("service")
    if not isinstance(service, str) or not service:
        raise doc.error(where, "missing 'service'")
    op = str(item.get("operation") or "")
    kind = item.get("kind", "http")
    try:
        kind_v = Kind(kind)
    except ValueError:
        raise doc.error(
            (*where, "kind"), f"unknown kind {kind!r} (expected {', '.join(k.value for k in Kind)})"
        ) from None
    labels = item.get("labels") or {}
    if not isinstance(labels, Mapping):
        raise doc.error((*where, "labels"), "expected a mapping")
    return Function(
        id=str(item.get("id") or Function.make_id(service, op)),
        service=service,
        operation=op,
        kind=kind_v,
        owner=None if item.get("owner") is None else str(item["owner"]),
        oncall=None if item.get("oncall") is None else str(item["oncall"]),
        tier=_tier(item.get("tier"), doc, (*where, "tier")),
        slo=_slo(item.get("slo"), doc, (*where, "slo")),
        runbooks=_strings(item.get("runbooks"), doc, (*where, "runbooks")),
        dependencies=_strings(item.get("dependencies"), doc, (*where, "dependencies")),
        labels={str(k): str(v) for k, v in labels.items()},
        source=source,
    )


class NotCatalog(ConfigError):
    """YAML that is neither a function list nor a Backstage entity (an OpenAPI file, a
    Kubernetes manifest): an error in a file the config names, skipped with a warning in one
    found by a directory scan or a Location."""


def document(data: Any, lines: LineMap, path: str, source: str) -> Parsed:
    """Everything one YAML document gives.

    Raises:
        ConfigError: a bad Callboard list entry, located at ``path:line``, naming the field
            and what was expected; :class:`NotCatalog` for a document of neither shape.
    """
    doc = _Doc(path, lines)
    if data is None:
        return Parsed()
    if isinstance(data, Mapping) and "apiVersion" in data:
        return entity(data, lines, path, source)
    prefix: tuple[Hashable, ...] = ()
    if isinstance(data, Mapping) and "functions" in data:
        data, prefix = data["functions"], ("functions",)
    if not isinstance(data, list):
        err = doc.error(
            prefix,
            "expected a list of functions or a Backstage entity (apiVersion, kind, metadata)",
        )
        raise NotCatalog(err.message, err.path, err.line)
    return Parsed(
        functions=[listed(item, doc, (*prefix, i), source) for i, item in enumerate(data)]
    )
