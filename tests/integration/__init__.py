"""Integration tests against real Prometheus and Alertmanager servers."""
