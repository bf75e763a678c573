"""Backstage entities → Functions, Location targets and located warnings. Pure, no I/O.

===========================================  ==============================================
entity field                                 Function
===========================================  ==============================================
``metadata.namespace``/``metadata.name``     ``id`` (``[namespace/]name``, ``default`` left
                                             out); ``service`` is the name
``spec.owner`` (``group:default/payments``)  ``owner`` (``payments``; a User keeps its kind:
                                             ``user:guest``)
``spec.system``                              ``system`` (``[namespace/]name``)
``spec.lifecycle``                           ``lifecycle``
``spec.dependsOn`` (``component:x``)         ``dependencies`` (``x``; ``resource:db`` keeps
                                             its kind)
``annotations.runbook_url``                  ``runbooks``
``annotations["pagerduty.com/service-id"]``  ``oncall`` (``pagerduty:<id>``)
tier keys (see :mod:`.tier`)                 ``tier``
``spec.type`` (grpc, function, worker, job)  ``kind``
===========================================  ==============================================

``Component`` and ``API`` entities become functions; ``Location`` entities give targets to
follow; other kinds are known (so references to them resolve) but are not functions. An
entity Backstage would reject (unknown ``apiVersion``, bad or missing kind, missing or
invalid ``metadata.name``, bad namespace) is skipped with a warning at its file:line.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from console.core.model import Function, Kind
from console.yamlload import LineMap

from . import refs
from .tier import read_tier

API_VERSIONS = frozenset(
    {
        "backstage.io/v1alpha1",
        "backstage.io/v1beta1",
        "backstage.io/v1beta2",  # old Templates
        "scaffolder.backstage.io/v1beta3",
    }
)
_KINDS = {
    "grpc": Kind.RPC,
    "rpc": Kind.RPC,
    "function": Kind.SERVERLESS,
    "lambda": Kind.SERVERLESS,
    "serverless": Kind.SERVERLESS,
    "worker": Kind.WORKER,
    "job": Kind.JOB,
}


@dataclass(frozen=True, slots=True)
class Target:
    """One ``spec.target``/``spec.targets`` entry of a Location, with where it was written."""

    text: str
    line: int | None
    optional: bool
    type: str | None


@dataclass
class Parsed:
    """What one or more documents gave: functions, every entity's ref, targets, warnings."""

    functions: list[Function] = field(default_factory=list)
    #: ``Ref.callboard()`` of every valid entity read (Components, Resources, Groups…).
    entities: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def extend(self, other: Parsed) -> None:
        self.functions += other.functions
        self.entities += other.entities
        self.targets += other.targets
        self.warnings += other.warnings


class _At:
    """Located warnings for one document."""

    def __init__(self, path: str, lines: LineMap, out: Parsed) -> None:
        self.path, self.lines, self.out = path, lines, out

    def line(self, where: tuple[Hashable, ...]) -> int | None:
        return self.lines.of(where)

    def warn(self, where: tuple[Hashable, ...], message: str) -> None:
        line = self.lines.of(where)
        self.out.warnings.append(
            f"{self.path}:{line}: {message}" if line else f"{self.path}: {message}"
        )


def _envelope(data: Mapping[str, Any], at: _At) -> tuple[str, refs.Ref] | None:
    """(kind, ref) of a valid entity, else None after a warning."""
    api = data.get("apiVersion")
    if not isinstance(api, str) or api not in API_VERSIONS:
        at.warn(
            ("apiVersion",),
            f"unknown apiVersion {api!r} (Backstage entities use "
            "backstage.io/v1alpha1); entity skipped",
        )
        return None
    kind = data.get("kind")
    problem = refs.kind_problem(kind)
    if problem:
        at.warn(("kind",), f"{problem}; entity skipped")
        return None
    meta = data.get("metadata")
    if not isinstance(meta, Mapping):
        at.warn(("metadata",), f"{kind} metadata.name is required; entity skipped")
        return None
    problem = refs.name_problem(meta.get("name"))
    if problem:
        at.warn(("metadata", "name"), f"{kind} {problem}; entity skipped")
        return None
    ns = meta.get("namespace", refs.DEFAULT_NAMESPACE)
    problem = refs.namespace_problem(ns)
    if problem:
        at.warn(("metadata", "namespace"), f"{problem}; entity skipped")
        return None
    return str(kind), refs.Ref(str(kind).lower(), ns, meta["name"])


def _location(spec: Mapping[str, Any], at: _At) -> None:
    optional = spec.get("presence") == "optional"
    ltype = spec.get("type")
    items: list[tuple[tuple[Hashable, ...], Any]] = []
    if "target" in spec:
        items.append((("spec", "target"), spec["target"]))
    targets = spec.get("targets")
    if isinstance(targets, list):
        items += [(("spec", "targets", i), t) for i, t in enumerate(targets)]
    elif targets is not None:
        at.warn(("spec", "targets"), "spec.targets must be a list of paths")
    if not items:
        at.warn(("spec",), "a Location needs spec.target or spec.targets")
    for where, t in items:
        if isinstance(t, str) and t.strip():
            at.out.targets.append(Target(t.strip(), at.line(where), optional, ltype))
        else:
            at.warn(where, f"Location target {t!r} is not a path")


def _ref(
    value: Any, default_kind: str | None, ns: str, at: _At, where: tuple[Hashable, ...]
) -> refs.Ref | None:
    try:
        return refs.parse_ref(value, default_kind, ns)
    except refs.RefError as exc:
        at.warn(where, str(exc))
        return None


def _owner(ref: refs.Ref | None) -> str | None:
    """A Group owner as ``[namespace/]name`` (owners are Groups by default); others keep
    their kind (``user:guest``)."""
    if ref is None:
        return None
    return ref.short() if ref.kind == "group" else ref.callboard()


def entity(data: Mapping[str, Any], lines: LineMap, path: str, source: str) -> Parsed:
    """One Backstage entity document."""
    out = Parsed()
    at = _At(path, lines, out)
    env = _envelope(data, at)
    if env is None:
        return out
    kind, self_ref = env
    spec = data.get("spec", {})
    if not isinstance(spec, Mapping):
        at.warn(("spec",), "spec must be a mapping; entity skipped")
        return out
    if kind == "Location":
        _location(spec, at)
        return out
    out.entities.append(self_ref.callboard())
    if self_ref.kind not in refs.FUNCTION_KINDS:
        return out
    meta = data["metadata"]
    ann = meta.get("annotations") or {}
    mlabels = meta.get("labels") or {}
    tags = meta.get("tags") or []
    if (
        not isinstance(ann, Mapping)
        or not isinstance(mlabels, Mapping)
        or not isinstance(tags, list)
    ):
        at.warn(
            ("metadata",), "annotations and labels must be mappings, tags a list; entity skipped"
        )
        out.entities.pop()
        return out
    ns = self_ref.namespace
    owner = _ref(spec["owner"], "group", ns, at, ("spec", "owner")) if spec.get("owner") else None
    system = (
        _ref(spec["system"], "system", ns, at, ("spec", "system")) if spec.get("system") else None
    )
    deps_raw = spec.get("dependsOn") or []
    if not isinstance(deps_raw, list):
        at.warn(("spec", "dependsOn"), "spec.dependsOn must be a list of entity references")
        deps_raw = []
    deps = [_ref(d, None, ns, at, ("spec", "dependsOn", i)) for i, d in enumerate(deps_raw)]
    lifecycle = spec.get("lifecycle")
    if lifecycle is not None and not isinstance(lifecycle, str):
        at.warn(("spec", "lifecycle"), f"spec.lifecycle {lifecycle!r} is not a string")
        lifecycle = None
    tier, problem = read_tier(ann, mlabels, tags)
    if problem:
        at.warn(*problem)
    pd = ann.get("pagerduty.com/service-id")
    labels = {"entity": f"{self_ref.kind}:{ns}/{self_ref.name}"}
    if spec.get("type"):
        labels["type"] = str(spec["type"])
    if pd:
        labels["pagerduty_service_id"] = str(pd)
    out.functions.append(
        Function(
            id=self_ref.short(),
            service=self_ref.name,
            kind=_KINDS.get(str(spec.get("type", "")).lower(), Kind.HTTP),
            owner=_owner(owner),
            oncall=f"pagerduty:{pd}" if pd else None,
            tier=tier,
            runbooks=tuple(str(ann[k]) for k in ("runbook_url", "runbook") if ann.get(k)),
            dependencies=tuple(d.callboard() for d in deps if d is not None),
            labels=labels,
            source=source,
            system=None if system is None else system.short(),
            lifecycle=lifecycle,
        )
    )
    return out
