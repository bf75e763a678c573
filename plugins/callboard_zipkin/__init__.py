"""Callboard's built-in zipkin plugin."""

from callboard_zipkin.plugin import ZipkinPlugin

__all__ = ["ZipkinPlugin"]
