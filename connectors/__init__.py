"""Frontdesk: connectors."""
