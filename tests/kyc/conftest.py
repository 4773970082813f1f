"""Fixtures for the kyc tests: the emulators (once per session) and a platform wired to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from core.testing import app_client
from core.users.testing import FAST_HASHING, make_user, sign_in
from plugins.kyc.service import KycService
from plugins.kyc.testing import PLUGINS, KycSandbox


@pytest.fixture(scope="session")
async def kyc_sandbox() -> Any:
    async with KycSandbox.start() as box:
        yield box


@pytest.fixture
def sandbox(kyc_sandbox: KycSandbox) -> Any:
    kyc_sandbox.reset()
    yield kyc_sandbox
    kyc_sandbox.reset()


@dataclass
class KycWorld:
    platform: Any
    sandbox: KycSandbox

    @property
    def kyc(self) -> KycService:
        return self.platform.service(KycService)


@pytest.fixture
async def platform(make_platform, sandbox) -> Any:
    """The kyc plugins talking to the emulators, with the list of invalid passports loaded.

    It replaces the testing kit's ``platform``, so ``client_as``, ``jobs`` and ``broker`` use it.
    """
    platform = await make_platform(["notify.outbox", *PLUGINS], settings={**sandbox.settings(), **FAST_HASHING})
    await sandbox.load_invalid_passports(platform)
    return platform


@pytest.fixture
def world(platform, sandbox) -> KycWorld:
    return KycWorld(platform, sandbox)


@pytest.fixture
async def customer(world):
    """A signed-in customer (a real session: cookie and CSRF token), and their user record."""
    user = await make_user(world.platform)
    async with app_client(world.platform) as http:
        await sign_in(http, user.login)
        http.user = user
        yield http
