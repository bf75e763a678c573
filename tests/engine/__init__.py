"""The engine: fleet refresh, store, executor, incidents, export, OTLP."""
