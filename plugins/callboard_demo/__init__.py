"""Callboard's built-in demo plugin."""
