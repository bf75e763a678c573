"""Callboard's built-in catalog plugin."""
