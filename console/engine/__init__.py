"""The async engine: plugin registry, fleet refresh, store, secrets. No Textual."""
