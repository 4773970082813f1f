"""Contracts: the protocols plugins implement and the frozen value types they exchange."""
