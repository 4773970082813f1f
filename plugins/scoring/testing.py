"""Test helpers for scoring providers: their emulators on loopback ports, providers pointed at them.

Used by the contract suite (``tests/contracts/test_scoring_providers.py``) and the scoring
plugin's tests; a third-party provider plugin can add itself to :data:`PROVIDERS` and run
the same suite against its own emulator.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from core.contracts.scoring import ScoringProvider, ScoringResult, ScoringStatus
from core.sandbox import LoopbackServer
from core.testing import free_port
from plugins.scoring.emulation import ProviderEmulator

PROVIDERS = ("ubki", "mbki", "scorista")


def default_settings(provider: str, **overrides: Any) -> Any:
    """A provider plugin's settings with their defaults (the sandbox credentials)."""
    module = importlib.import_module(f"plugins.scoring.{provider}.settings")
    model = next(v for k, v in vars(module).items() if k.endswith("Settings") and k != "BaseModel")
    return model(**overrides)


def api_url(provider: str, base: str) -> str:
    """The ``api_url`` setting that points ``provider`` at an emulator served at ``base``."""
    if provider == "mbki":
        from plugins.scoring.mbki.emulator import PATH

        return base + PATH
    return base


@dataclass
class Sandbox:
    """The built-in providers' emulators, each on its own loopback port."""

    emulators: dict[str, ProviderEmulator]
    urls: dict[str, str]
    servers: list[LoopbackServer] = field(default_factory=list)

    @classmethod
    async def start(cls, providers: tuple[str, ...] = PROVIDERS, **options: Any) -> Sandbox:
        options = {"stall_s": 1.0, **options}
        box = cls({}, {})
        for provider in providers:
            port = free_port()
            module = importlib.import_module(f"plugins.scoring.{provider}.emulator")
            emulator = module.build_emulator(default_settings(provider), **options)
            box.servers.append(await LoopbackServer(emulator.app(), port).start())
            box.emulators[provider], box.urls[provider] = emulator, f"http://127.0.0.1:{port}"
        return box

    async def stop(self) -> None:
        for server in self.servers:
            await server.stop()

    def reset(self) -> None:
        for emulator in self.emulators.values():
            emulator.reset()

    def settings(self, timeout_s: float = 0.5, **scoring: Any) -> dict[str, dict[str, Any]]:
        """Deployment settings pointing every provider plugin at its emulator."""
        return {"scoring": {"first_poll_after_s": 0, **scoring},
                **{f"scoring.{p}": {"api_url": api_url(p, url), "timeout_s": timeout_s}
                   for p, url in self.urls.items()}}

    def provider(self, provider: str, timeout_s: float = 0.5, base: str | None = None,
                 **overrides: Any) -> ScoringProvider:
        """``provider`` built from its settings, talking to its emulator (or to ``base``)."""
        module = importlib.import_module(f"plugins.scoring.{provider}.settings")
        settings = default_settings(provider, api_url=api_url(provider, base or self.urls[provider]),
                                    timeout_s=timeout_s, **overrides)
        return module.build_provider(settings, platform=None)


async def final_answer(provider: ScoringProvider, result: ScoringResult, *, polls: int = 10) -> ScoringResult:
    """Fetch an asynchronous provider's answer until it is final (at most ``polls`` times)."""
    for _ in range(polls):
        if result.status is not ScoringStatus.PENDING:
            return result
        result = await provider.fetch(result.report_ref)
    return result
