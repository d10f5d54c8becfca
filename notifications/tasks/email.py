"""Filled in with its feature."""
