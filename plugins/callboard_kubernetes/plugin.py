"""Kubernetes actions through ``kubectl`` argv (never a shell), always with ``--context``.

```yaml
backends:
  - name: k8s-prod
    plugin: kubernetes
    context: prod-eu            # required: the kubeconfig context every call names
    namespace: shop             # default: default
    kubectl: kubectl            # the binary (looked up on PATH)
    deployments: {"checkout": "checkout-api", "checkout:POST /pay": "checkout-pay"}
```

Actions: ``rollback`` (param ``to_revision``, default the previous one), ``restart`` and
``scale`` (param ``replicas``). A rollback's plan reads the Deployment and its
ReplicaSets and shows the current and target revisions and the image change; execute runs
``rollout undo --to-revision=N`` with the planned revision, so what runs is what was shown.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any, ClassVar

from callboard_kubernetes import parse
from console.plugin_api import (
    ActionError,
    ActionPlan,
    ActionRequest,
    ActionResult,
    BackendStatus,
    BackendUnavailable,
    BadResponse,
    Option,
    PluginContext,
    check_options,
)


class KubernetesPlugin:
    """Rollout undo/restart and scale of the Deployment behind a function."""

    actions: ClassVar[frozenset[str]] = frozenset({"rollback", "restart", "scale"})
    OPTIONS: ClassVar[tuple[Option, ...]] = (
        Option(
            "context",
            "str",
            "the kubeconfig context to act in (never the current one by accident)",
            required=True,
        ),
        Option("namespace", "str", "the namespace of the Deployments", default="default"),
        Option("kubectl", "str", "the kubectl binary", default="kubectl"),
        Option("deployments", "dict", "function id or service → Deployment name"),
    )

    def __init__(self, name: str, options: Mapping[str, Any], context: PluginContext) -> None:
        check_options("kubernetes", self.OPTIONS, options)
        self.name = name
        self.kube_context = str(options["context"])
        self.namespace = str(options.get("namespace", "default"))
        self.kubectl = str(options.get("kubectl", "kubectl"))
        self.deployments = {str(k): str(v) for k, v in (options.get("deployments") or {}).items()}
        self.timeout = float(options.get("timeout", 60.0))

    def deployment_of(self, function_id: str) -> str:
        """The Deployment for a function: by id, then by service, else the service name."""
        service = function_id.partition(":")[0]
        return self.deployments.get(function_id) or self.deployments.get(service) or service

    async def _run(self, *args: str) -> str:
        argv = [self.kubectl, "--context", self.kube_context, "--namespace", self.namespace, *args]
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except FileNotFoundError:
            raise ActionError(
                f"{self.name}: kubectl not found ({self.kubectl!r}): install it or set kubectl:"
            ) from None
        except PermissionError:
            raise ActionError(
                f"{self.name}: kubectl {self.kubectl!r} is not executable (permission denied)"
            ) from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError:
            raise BackendUnavailable(
                f"{self.name}: kubectl {' '.join(args)} timed out after {self.timeout:g}s"
            ) from None
        finally:
            # Timed out here, or the step's own timeout cancelled us: kubectl must not go on
            # changing the cluster after the run has recorded the step as ended.
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        if proc.returncode != 0:
            text = err.decode(errors="replace").strip() or out.decode(errors="replace").strip()
            if "Unable to connect" in text or "connection refused" in text:
                raise BackendUnavailable(f"{self.name}: {text}")
            raise ActionError(f"{self.name}: kubectl {' '.join(args)}: {text}")
        return out.decode(errors="replace")

    async def _json(self, *args: str) -> dict[str, Any]:
        text = await self._run(*args, "-o", "json")
        try:
            data = json.loads(text)
        except ValueError:
            raise BadResponse(
                f"{self.name}: kubectl {' '.join(args)} did not return JSON"
            ) from None
        if not isinstance(data, dict):
            raise BadResponse(f"{self.name}: kubectl {' '.join(args)}: expected an object")
        return data

    async def check(self) -> BackendStatus:
        """``kubectl version`` against the context; never raises."""
        try:
            await self._run("version", "--request-timeout=5s")
        except Exception as exc:
            return BackendStatus(self.name, "kubernetes", False, error=str(exc))
        return BackendStatus(self.name, "kubernetes", True)

    async def aclose(self) -> None:
        return None

    async def plan(self, request: ActionRequest) -> ActionPlan:
        """What the action would change, read from the cluster. Raises ActionError."""
        name = self.deployment_of(request.function_id)
        where = f"deployment/{name} in {self.namespace} (context {self.kube_context})"
        dep = await self._json("get", f"deployment/{name}")
        params = dict(request.params)
        if request.action == "rollback":
            to = _int(params.get("to_revision", 0), "to_revision")
            rs = await self._json("get", "replicasets", "-l", parse.selector(dep))
            current, target = parse.rollback_target(dep, rs, to)
            now_template = dep.get("spec", {}).get("template", {})
            if parse.same_template(now_template, target.template):
                summary = f"skipped rollback of {where} (current template already matches revision {target.number})"
                return ActionPlan(request, self.name, summary, (), False, {"deployment": name})
            now_images = parse.images(now_template)
            changes = [
                f"{c}: {now_images.get(c, '(none)')} → {img}"
                for c, img in sorted(target.images.items())
                if now_images.get(c) != img
            ]
            cur = current.number if current else "?"
            changes.append(f"revision {cur} → {target.number} (rolled out as a new revision)")
            summary = f"roll back {where} from revision {cur} to revision {target.number}"
            details = {"deployment": name, "to_revision": target.number, "from_revision": cur}
            return ActionPlan(request, self.name, summary, tuple(changes), True, details)
        if request.action == "restart":
            replicas = dep.get("spec", {}).get("replicas", "?")
            what = f"rolling restart of {replicas} pod(s): sets kubectl.kubernetes.io/restartedAt"
            return ActionPlan(
                request, self.name, f"restart {where}", (what,), True, {"deployment": name}
            )
        if request.action == "scale":
            if "replicas" not in params:
                raise ActionError("scale: needs replicas (a whole number ≥ 0)")
            target_n = _int(params["replicas"], "replicas")
            now = dep.get("spec", {}).get("replicas")
            return ActionPlan(
                request,
                self.name,
                f"scale {where} from {now} to {target_n} replicas",
                (f"replicas: {now} → {target_n}",),
                now != target_n,
                {"deployment": name, "replicas": target_n},
            )
        raise ActionError(
            f"{self.name}: unknown action {request.action!r} (offers: rollback, restart, scale)"
        )

    async def execute(self, plan: ActionPlan) -> ActionResult:
        """Run the planned kubectl command. Raises ActionError, BackendUnavailable."""
        d = plan.details
        name = str(d.get("deployment"))
        action = plan.request.action
        if not plan.mutates:
            return ActionResult(plan, True, plan.summary)
        if action == "rollback":
            out = await self._run(
                "rollout", "undo", f"deployment/{name}", f"--to-revision={d['to_revision']}"
            )
        elif action == "restart":
            out = await self._run("rollout", "restart", f"deployment/{name}")
        elif action == "scale":
            out = await self._run("scale", f"deployment/{name}", f"--replicas={d['replicas']}")
        else:
            raise ActionError(f"{self.name}: unknown action {action!r}")
        return ActionResult(plan, True, out.strip() or plan.summary, dict(d))


def _int(value: Any, name: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ActionError(f"{name}: expected a whole number ≥ 0, got {value!r}")
    return value
