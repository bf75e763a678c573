"""Callboard's built-in grafana plugin: incident actions and status changes as annotations."""

from .plugin import GrafanaPlugin

__all__ = ["GrafanaPlugin"]
