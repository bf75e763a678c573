"""Callboard's built-in loki plugin (log records by LogQL, by service label and trace id)."""

from callboard_loki.plugin import LokiPlugin

__all__ = ["LokiPlugin"]
