"""Notifications to users through the enabled channels."""
