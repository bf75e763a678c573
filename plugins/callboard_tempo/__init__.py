"""Callboard's built-in tempo plugin."""
