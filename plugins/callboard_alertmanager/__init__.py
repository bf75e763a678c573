"""Callboard's built-in alertmanager plugin."""
