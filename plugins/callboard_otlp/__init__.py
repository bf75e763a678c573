"""Callboard's built-in otlp plugin."""
