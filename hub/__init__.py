"""Frontdesk: hub."""
