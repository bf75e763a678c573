"""Callboard's built-in prometheus plugin: functions and signals from a Prometheus query API."""

from .plugin import PrometheusPlugin

__all__ = ["PrometheusPlugin"]
