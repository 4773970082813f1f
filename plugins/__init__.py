"""Plugins shipped with kopilka."""
