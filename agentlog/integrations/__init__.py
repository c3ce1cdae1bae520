"""Integrations with other tools; each is imported only by the tool it integrates with."""
