"""Shared fixtures come from core.testing (installed as the ``kopilka`` pytest plugin)."""
