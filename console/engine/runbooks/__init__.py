"""Runbooks: catalog, executor, steps, run records, confirmations, annotations."""
