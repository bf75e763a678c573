"""Callboard's built-in demo plugin: a simulated fleet with failures, traces and cures.

Importing this package does nothing but define names; the fleet is built on first use.
"""

from callboard_demo.plugin import DemoPlugin

__all__ = ["DemoPlugin"]
