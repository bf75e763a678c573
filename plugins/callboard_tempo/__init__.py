"""Callboard's built-in tempo plugin (TraceQL search, trace by id)."""

from callboard_tempo.plugin import TempoPlugin

__all__ = ["TempoPlugin"]
