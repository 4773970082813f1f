"""Contracts that plugins implement for the domain registries.

Each module holds a ``Protocol`` for one hook family and the frozen value types its
methods take and return. Registration is synchronous; the methods are ``async``. A
provider reports business outcomes (declined, not found, pending) in its result and
raises only for bugs.
"""
