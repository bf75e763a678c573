"""Callboard's built-in alertmanager plugin: active alerts and silences."""

from .plugin import AlertmanagerPlugin

__all__ = ["AlertmanagerPlugin"]
