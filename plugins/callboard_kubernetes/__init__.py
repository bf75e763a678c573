"""Callboard's Kubernetes actions plugin: rollout undo, restart and scale through kubectl."""

from callboard_kubernetes.plugin import KubernetesPlugin

__all__ = ["KubernetesPlugin"]
