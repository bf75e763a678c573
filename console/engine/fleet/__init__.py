"""The fleet: backends, plugin registry, refresh, resilience, on-demand reads."""
