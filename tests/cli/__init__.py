"""The CLI commands, as a user runs them."""
