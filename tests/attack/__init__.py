"""Hostile input: escapes, secrets, oversize payloads, parameter injection."""
