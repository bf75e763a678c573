"""Pure reading of kubectl's JSON: a Deployment, its ReplicaSets, revisions and images.

Mirrors ``kubectl rollout undo`` (``pkg/polymorphichelpers/rollback.go``): the ReplicaSets
*controlled by* the Deployment carry ``deployment.kubernetes.io/revision``; revision 0 means
the previous one (the second highest); templates are compared ignoring ``pod-template-hash``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from console.plugin_api import ActionError, BadResponse

REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"


@dataclass(frozen=True)
class Revision:
    """One ReplicaSet of a Deployment: its revision, images and pod template."""

    number: int
    name: str
    images: dict[str, str]
    template: Mapping[str, Any]


def images(template: Mapping[str, Any]) -> dict[str, str]:
    """Container name → image in a pod template."""
    containers = template.get("spec", {}).get("containers", []) or []
    return {str(c.get("name")): str(c.get("image")) for c in containers if isinstance(c, Mapping)}


def _without_hash(template: Mapping[str, Any]) -> dict[str, Any]:
    t = copy.deepcopy(dict(template))
    labels = t.get("metadata", {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return t


def same_template(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Equal pod templates, ignoring the ``pod-template-hash`` label."""
    return _without_hash(a) == _without_hash(b)


def selector(deployment: Mapping[str, Any]) -> str:
    """The Deployment's ``matchLabels`` as a kubectl ``-l`` selector."""
    labels = deployment.get("spec", {}).get("selector", {}).get("matchLabels") or {}
    if not labels:
        raise BadResponse("deployment has no spec.selector.matchLabels")
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def revisions(deployment: Mapping[str, Any], replicasets: Mapping[str, Any]) -> list[Revision]:
    """The Deployment's own ReplicaSets (by controller uid), newest revision first."""
    uid = deployment.get("metadata", {}).get("uid")
    out: list[Revision] = []
    for rs in replicasets.get("items", []) or []:
        meta = rs.get("metadata", {})
        owners = meta.get("ownerReferences", []) or []
        if not any(o.get("uid") == uid and o.get("controller") for o in owners):
            continue
        try:
            number = int(meta.get("annotations", {}).get(REVISION, ""))
        except ValueError:
            continue
        template = rs.get("spec", {}).get("template", {})
        out.append(Revision(number, str(meta.get("name")), images(template), template))
    return sorted(out, key=lambda r: -r.number)


def rollback_target(
    deployment: Mapping[str, Any], replicasets: Mapping[str, Any], to_revision: int = 0
) -> tuple[Revision | None, Revision]:
    """(current, target) for a rollback.

    Raises:
        ActionError: paused deployment, no history, or an unknown revision.
    """
    name = deployment.get("metadata", {}).get("name", "?")
    if deployment.get("spec", {}).get("paused"):
        raise ActionError(
            f"deployment/{name} is paused: you cannot roll back a paused deployment; resume it first"
        )
    revs = revisions(deployment, replicasets)
    current_no = deployment.get("metadata", {}).get("annotations", {}).get(REVISION)
    current = next((r for r in revs if str(r.number) == str(current_no)), revs[0] if revs else None)
    if to_revision:
        target = next((r for r in revs if r.number == to_revision), None)
        if target is None:
            known = ", ".join(str(r.number) for r in revs) or "none"
            raise ActionError(
                f"deployment/{name}: unable to find revision {to_revision} (history: {known})"
            )
        return current, target
    if len(revs) < 2:
        raise ActionError(f"deployment/{name}: no rollout history to go back to")
    return current, revs[1]
