"""Callboard's built-in jaeger plugin (api_v3, falling back to the older /api/traces)."""

from callboard_jaeger.plugin import JaegerPlugin

__all__ = ["JaegerPlugin"]
