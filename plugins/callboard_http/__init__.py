"""Callboard's generic webhook actions plugin (throttle, circuit, feature-flag endpoints)."""

from callboard_http.plugin import HttpActionsPlugin

__all__ = ["HttpActionsPlugin"]
