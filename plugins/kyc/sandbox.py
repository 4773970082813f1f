"""Provider emulators inside the platform's own web app (``[platform] sandbox = true``).

In the sandbox each check that asks a provider mounts the provider's emulator at
``/sandbox/<provider>/`` and talks to it there, unless its settings name another address,
so the demo verifies customers with no network. ``kopilka kyc emulator <provider>`` serves
an emulator on its own port instead; tests use :class:`LoopbackServer`.
"""

from __future__ import annotations

from core.sandbox import PREFIX, LoopbackServer, mount, provider_url, sandbox_on

__all__ = ["PREFIX", "LoopbackServer", "mount", "provider_url", "sandbox_on"]
