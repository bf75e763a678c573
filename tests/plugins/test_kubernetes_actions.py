"""The kubernetes actions plugin against a stand-in ``kubectl`` on PATH that answers with
recorded API shapes (a Deployment and its ReplicaSets) and logs every argv it receives."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from callboard_kubernetes import KubernetesPlugin
from callboard_kubernetes import parse as k8s

from console.core.model import ActionRequest
from console.errors import ActionError
from console.plugin_api import PluginContext

UID = "5f0c6a6e-2b1d-4c1e-9a57-0d6c3f1f9b10"


def template(image: str, hash_: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "checkout", "pod-template-hash": hash_}},
        "spec": {
            "containers": [
                {"name": "api", "image": image, "ports": [{"containerPort": 8080}]},
                {"name": "envoy", "image": "envoyproxy/envoy:v1.31.2"},
            ]
        },
    }


DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "checkout-api",
        "namespace": "shop",
        "uid": UID,
        "generation": 9,
        "annotations": {"deployment.kubernetes.io/revision": "7"},
    },
    "spec": {
        "replicas": 6,
        "selector": {"matchLabels": {"app": "checkout"}},
        "template": {
            **template("registry.test/checkout:v2.14.0", "x"),
            "metadata": {"labels": {"app": "checkout"}},
        },
    },
    "status": {
        "observedGeneration": 9,
        "replicas": 6,
        "updatedReplicas": 6,
        "availableReplicas": 6,
    },
}


def replicaset(name: str, revision: int, image: str, owner: str = UID) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": "shop",
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "checkout-api",
                    "uid": owner,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {"replicas": 0, "template": template(image, name.rsplit("-", 1)[1])},
    }


REPLICASETS: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "List",
    "items": [
        replicaset("checkout-api-7d9f8c6b5", 7, "registry.test/checkout:v2.14.0"),
        replicaset("checkout-api-6c8b7a594", 6, "registry.test/checkout:v2.13.2"),
        replicaset("checkout-api-5b7a69483", 5, "registry.test/checkout:v2.13.1"),
        replicaset("checkout-canary-99", 9, "registry.test/checkout:v9", owner="someone-else"),
    ],
}

KUBECTL = """\
import json, os, sys
args = sys.argv[1:]
with open(os.environ["KUBECTL_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if args[:4] != ["--context", "prod-eu", "--namespace", "shop"]:
    sys.exit("error: expected --context prod-eu --namespace shop first")
rest = args[4:]
fixtures = os.environ["KUBECTL_FIXTURES"]
if rest[:2] == ["get", "deployment/checkout-api"] and rest[-2:] == ["-o", "json"]:
    print(open(os.path.join(fixtures, "deployment.json")).read())
elif rest[:4] == ["get", "replicasets", "-l", "app=checkout"]:
    print(open(os.path.join(fixtures, "replicasets.json")).read())
elif rest[:3] == ["rollout", "undo", "deployment/checkout-api"]:
    print("deployment.apps/checkout-api rolled back")
elif rest[:3] == ["rollout", "restart", "deployment/checkout-api"]:
    print("deployment.apps/checkout-api restarted")
elif rest[:2] == ["scale", "deployment/checkout-api"]:
    print("deployment.apps/checkout-api scaled")
else:
    sys.exit('Error from server (NotFound): deployments.apps "%s" not found' % rest[1:2])
"""


@pytest.fixture
def kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in kubectl first on PATH; returns its argv log."""
    bin_dir, fixtures = tmp_path / "bin", tmp_path / "fixtures"
    bin_dir.mkdir()
    fixtures.mkdir()
    script = bin_dir / "kubectl"
    script.write_text(f"#!{sys.executable}\n{KUBECTL}")
    script.chmod(0o755)
    (fixtures / "deployment.json").write_text(json.dumps(DEPLOYMENT))
    (fixtures / "replicasets.json").write_text(json.dumps(REPLICASETS))
    log = tmp_path / "kubectl.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("KUBECTL_LOG", str(log))
    monkeypatch.setenv("KUBECTL_FIXTURES", str(fixtures))
    return log


def plugin(**options: Any) -> KubernetesPlugin:
    opts = {
        "context": "prod-eu",
        "namespace": "shop",
        "deployments": {"checkout": "checkout-api"},
        **options,
    }
    return KubernetesPlugin("k8s", opts, PluginContext(None, str, lambda: 0.0))


def calls(log: Path) -> list[list[str]]:
    return [json.loads(line)[4:] for line in log.read_text().splitlines()]


async def test_rollback_plan_shows_revisions_and_image_change_then_undoes_to_that_revision(
    kubectl: Path,
) -> None:
    p = plugin()
    plan = await p.plan(ActionRequest("rollback", "checkout:POST /pay", {}))
    assert plan.summary == (
        "roll back deployment/checkout-api in shop (context prod-eu) from revision 7 to revision 6"
    )
    assert plan.changes == (
        "api: registry.test/checkout:v2.14.0 → registry.test/checkout:v2.13.2",
        "revision 7 → 6 (rolled out as a new revision)",
    )
    assert calls(kubectl) == [
        ["get", "deployment/checkout-api", "-o", "json"],
        ["get", "replicasets", "-l", "app=checkout", "-o", "json"],
    ]
    result = await p.execute(plan)
    assert result.ok and result.message == "deployment.apps/checkout-api rolled back"
    assert calls(kubectl)[-1] == ["rollout", "undo", "deployment/checkout-api", "--to-revision=6"]


async def test_rollback_to_an_explicit_or_unknown_revision(kubectl: Path) -> None:
    p = plugin()
    plan = await p.plan(ActionRequest("rollback", "checkout", {"to_revision": "5"}))
    assert plan.details["to_revision"] == 5 and "v2.13.1" in plan.changes[0]
    with pytest.raises(ActionError, match=r"unable to find revision 9 \(history: 7, 6, 5\)"):
        await p.plan(ActionRequest("rollback", "checkout", {"to_revision": 9}))  # not ours


async def test_restart_and_scale(kubectl: Path) -> None:
    p = plugin()
    plan = await p.plan(ActionRequest("restart", "checkout:POST /pay", {}))
    assert (await p.execute(plan)).ok
    assert calls(kubectl)[-1] == ["rollout", "restart", "deployment/checkout-api"]
    plan = await p.plan(ActionRequest("scale", "checkout:POST /pay", {"replicas": 10}))
    assert plan.changes == ("replicas: 6 → 10",) and plan.mutates
    await p.execute(plan)
    assert calls(kubectl)[-1] == ["scale", "deployment/checkout-api", "--replicas=10"]
    same = await p.plan(ActionRequest("scale", "checkout:POST /pay", {"replicas": 6}))
    assert not same.mutates


async def test_errors_are_typed(kubectl: Path) -> None:
    with pytest.raises(ActionError, match="NotFound"):
        await plugin().plan(ActionRequest("restart", "cart:GET /cart", {}))
    with pytest.raises(ActionError, match="kubectl not found"):
        await plugin(kubectl="/nonexistent/kubectl").plan(ActionRequest("restart", "checkout", {}))
    with pytest.raises(ValueError, match="context: required"):
        KubernetesPlugin("k8s", {"namespace": "shop"}, PluginContext(None, str, lambda: 0.0))


def test_parse_refuses_a_paused_deployment_and_spots_identical_templates() -> None:
    paused = {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "paused": True}}
    with pytest.raises(ActionError, match="paused"):
        k8s.rollback_target(paused, REPLICASETS)
    a = REPLICASETS["items"][0]["spec"]["template"]
    assert k8s.same_template(a, DEPLOYMENT["spec"]["template"])  # ignoring pod-template-hash
    assert [r.number for r in k8s.revisions(DEPLOYMENT, REPLICASETS)] == [7, 6, 5]


async def test_a_kubectl_without_execute_permission_is_a_clear_action_error(
    tmp_path: Path,
) -> None:
    script = tmp_path / "kubectl"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o644)
    with pytest.raises(ActionError, match="is not executable"):
        await plugin(kubectl=str(script)).plan(ActionRequest("restart", "checkout", {}))


BLOCKING = """
import os, sys
with open(os.environ["KUBECTL_STARTED"], "w") as f:  # tell the test we are running
    f.write(str(os.getpid()))
open(os.environ["KUBECTL_GATE"]).read()  # nobody ever writes: block until killed
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


async def test_a_step_timeout_kills_kubectl(
    kubectl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = await plugin().plan(ActionRequest("restart", "checkout:POST /pay", {}))
    started, gate = tmp_path / "started", tmp_path / "gate"
    os.mkfifo(started)
    os.mkfifo(gate)
    monkeypatch.setenv("KUBECTL_STARTED", str(started))
    monkeypatch.setenv("KUBECTL_GATE", str(gate))
    slow = tmp_path / "slow-kubectl"
    slow.write_text(f"#!{sys.executable}\n{BLOCKING}")
    slow.chmod(0o755)
    task = asyncio.create_task(plugin(kubectl=str(slow)).execute(plan))
    pid = int(await asyncio.wait_for(asyncio.to_thread(started.read_text), 30))
    try:
        assert _alive(pid)
        task.cancel()  # what asyncio.wait_for does when the step's timeout passes
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not _alive(pid)  # killed and reaped, not left changing the cluster
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
