"""Frontdesk: handoff."""
