"""Fixtures for the payments tests: the four provider emulators and a platform wired to them.

The emulators listen on loopback ports for the whole session (started once); each test
gets them reset. Their callbacks go straight into the test's app in-process.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from core.money import Money
from core.testing import app_client, make_identity
from plugins.payments.emulation import HostedPageCustomer
from plugins.payments.testing import PROVIDERS, Sandbox, send_bank_transfer

CARD_PROVIDERS = ("fondy", "wayforpay", "uniteller")
GATEWAY_PLUGINS = [f"payments.{p}" for p in PROVIDERS]


@pytest.fixture(scope="session")
async def sandbox() -> Any:
    box = await Sandbox.start()
    yield box
    await box.stop()


@pytest.fixture
def emulators(sandbox: Sandbox) -> Any:
    sandbox.reset()
    yield sandbox
    sandbox.reset()


@dataclass
class PaymentsWorld:
    """A platform with the payments plugins, its app, and a signed-in customer."""

    platform: Any
    app: Any
    sandbox: Sandbox
    customer: httpx.AsyncClient
    user_id: uuid.UUID
    login: str = ""

    async def second_person_approves(self, *permissions: str) -> Any:
        """Another member of staff approves the newest pending maker-checker request."""
        from core.access.approvals import Approvals

        approvals = self.platform.service(Approvals)
        pending = await approvals.list(status="pending", limit=1)
        assert pending, "nothing waits for approval"
        return await approvals.approve(make_identity(*permissions), pending[0].id)

    @property
    def payments(self) -> Any:
        from plugins.payments.service import Payments

        return self.platform.service(Payments)

    def gateway(self, name: str) -> Any:
        return self.platform.registry("payment_gateways").get(name)

    async def balance(self, user_id: uuid.UUID | None = None) -> Money:
        return await self.payments.available_balance(user_id or self.user_id)

    async def pay(self, payment: Any, card: str = "4444555511116666", *, cancel: bool = False) -> None:
        """The customer pays on the provider's page; callbacks are delivered."""
        if payment.gateway == "bank_transfer":
            await send_bank_transfer(self.sandbox.urls["bank_transfer"], payment.amount, payment.reference)
        else:
            await HostedPageCustomer().pay(payment.redirect, card, cancel=cancel)
        await self.sandbox.idle()

    async def funded(self, amount: str = "5000", gateway: str = "fondy", save_card: bool = True) -> Any:
        """A succeeded top-up (and the card it saved)."""
        money = self.payments.money(amount)
        payment = await self.payments.start_topup(user_id=self.user_id, amount=money, gateway=gateway,
                                                  save_card=save_card)
        await self.pay(payment)
        return await self.payments.get(payment.id)


@pytest.fixture
async def world(make_platform, emulators) -> Any:
    from core.users.testing import FAST_HASHING, make_user

    platform = await make_platform(["notify.outbox", "payments", *GATEWAY_PLUGINS],
                                   settings={**emulators.settings(), **FAST_HASHING})
    user = await make_user(platform)
    user_id = user.id
    from core.web.app import create_app

    app = create_app(platform)
    emulators.route_callbacks_to(app, platform.core.web.base_url.rstrip("/"))
    async with app_client(platform, identity=make_identity(user_id=user_id), app=app) as customer:
        yield PaymentsWorld(platform, app, emulators, customer, user_id, user.login)
