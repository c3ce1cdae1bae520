"""Turning frames and values into bounded, redacted descriptors (docs/FORMAT.md)."""
