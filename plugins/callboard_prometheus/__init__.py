"""Callboard's built-in prometheus plugin."""
