"""Each built-in plugin on real payloads (servers that run here: tests/integration)."""
