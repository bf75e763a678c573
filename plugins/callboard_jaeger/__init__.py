"""Callboard's built-in jaeger plugin."""
