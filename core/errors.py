"""Errors the platform raises for mistakes in how it is set up."""

from __future__ import annotations


class KopilkaError(Exception):
    """Base class of kopilka's own errors."""


class ConfigError(KopilkaError):
    """A deployment cannot start; the message is one line naming file, plugin and key."""

    def __init__(self, source: str, plugin: str, key: str, message: str) -> None:
        self.source = source
        self.plugin = plugin
        self.key = key
        self.message = message
        super().__init__(f"{source}: plugin '{plugin}': key '{key}': {message}")
