"""Callboard's built-in otlp plugin: the embedded receiver's spans as a trace source."""

from callboard_otlp.plugin import OtlpPlugin

__all__ = ["OtlpPlugin"]
