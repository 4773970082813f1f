"""kopilka core: the ledger, users and access, staged projects, jobs, and the plugin system.

Plugin authors need only this package's top level::

    from core import hookimpl
"""

from core.hookspecs import hookimpl

__all__ = ["hookimpl"]
