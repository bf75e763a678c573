"""Callboard's built-in zipkin plugin."""
