"""Drills (``callboard drill``): a hidden failure on a fresh fleet, and its scorecard."""
