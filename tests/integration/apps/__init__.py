"""Small web apps instrumented by real exporter libraries, for the integration tests."""
