"""Callboard's built-in replay plugin: a recorded incident served as a fleet, as it was."""

from callboard_replay.plugin import ReplayPlugin

__all__ = ["ReplayPlugin"]
