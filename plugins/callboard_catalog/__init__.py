"""Callboard's built-in catalog plugin: a YAML function list and Backstage catalog-info files."""

from .plugin import CatalogPlugin

__all__ = ["CatalogPlugin"]
