"""Callboard: a terminal console for the engineer on call."""

__version__ = "0.1.0"
