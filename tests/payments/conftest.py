"""Fixtures for the payments tests: the four provider emulators and a platform wired to them.

The emulators listen on loopback ports for the whole session (started once); each test
gets them reset. Their callbacks go straight into the test's app in-process.
"""

from __future__ import annotations

import importlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from core.money import Money
from core.testing import app_client, free_port, make_identity
from plugins.payments.emulation import HostedPageCustomer, LoopbackServer, ProviderEmulator

PROVIDERS = ("fondy", "wayforpay", "uniteller", "bank_transfer")
CARD_PROVIDERS = ("fondy", "wayforpay", "uniteller")
GATEWAY_PLUGINS = [f"payments.{p}" for p in PROVIDERS]

BANK_DETAILS = {
    "beneficiary_name": "ООО «Копилка»", "beneficiary_tax_id": "7707083893", "beneficiary_tax_reason_code": "773601001",
    "account_number": "40702810900000000001", "bank_name": "Sandbox Bank", "bank_code": "044525225",
    "correspondent_account": "30101810400000000225",
}


def default_settings(provider: str) -> Any:
    """The plugin's settings with their defaults (the providers' public test merchants)."""
    module = importlib.import_module(f"plugins.payments.{provider}.settings")
    model = next(v for k, v in vars(module).items() if k.endswith("Settings") and k != "BaseModel")
    return model(**(BANK_DETAILS if provider == "bank_transfer" else {}))


@dataclass
class Sandbox:
    emulators: dict[str, ProviderEmulator]
    urls: dict[str, str]
    servers: list[LoopbackServer] = field(default_factory=list)

    def settings(self, **payments: Any) -> dict[str, dict[str, Any]]:
        """Deployment settings pointing every gateway plugin at its emulator."""
        u = self.urls
        return {
            "payments": {"first_check_after_s": 0, **payments},
            "payments.fondy": {"api_url": f"{u['fondy']}/api", "timeout_s": 0.5, "currencies": ["RUB", "UAH"]},
            "payments.wayforpay": {"pay_url": f"{u['wayforpay']}/pay", "api_url": f"{u['wayforpay']}/api",
                                   "timeout_s": 0.5, "currencies": ["RUB", "UAH"]},
            "payments.uniteller": {"api_url": u["uniteller"], "timeout_s": 0.5},
            "payments.bank_transfer": {**BANK_DETAILS, "statement_url": f"{u['bank_transfer']}/statement",
                                       "timeout_s": 0.5},
        }

    def reset(self) -> None:
        for emulator in self.emulators.values():
            emulator.reset()
            emulator.callback_transport = None
            emulator.default_callback_url = ""

    def route_callbacks_to(self, app: Any, base_url: str) -> None:
        transport = httpx.ASGITransport(app=app, client=("10.0.0.7", 40000))
        for name, emulator in self.emulators.items():
            emulator.callback_transport = transport
            emulator.default_callback_url = f"{base_url}/api/v1/payments/callbacks/{name}"

    async def idle(self) -> None:
        for emulator in self.emulators.values():
            await emulator.idle()


@pytest.fixture(scope="session")
async def sandbox() -> Any:
    emulators: dict[str, ProviderEmulator] = {}
    urls: dict[str, str] = {}
    servers = []
    for provider in PROVIDERS:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        module = importlib.import_module(f"plugins.payments.{provider}.emulator")
        emulator = module.build_emulator(default_settings(provider), public_url=url, retry_delays=(),
                                         callback_delay_s=0.3, stall_s=1.5)
        servers.append(await LoopbackServer(emulator.app(), port).start())
        emulators[provider], urls[provider] = emulator, url
    box = Sandbox(emulators, urls, servers)
    yield box
    for emulator in emulators.values():
        await emulator.close()
    for server in servers:
        await server.stop()


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
            bank = self.sandbox.emulators["bank_transfer"]
            bank.book(amount=payment.amount, purpose=f"Invoice {payment.reference}")
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
    platform = await make_platform(["payments", *GATEWAY_PLUGINS], settings=emulators.settings())
    user_id = uuid.uuid4()
    from core.web.app import create_app

    app = create_app(platform)
    emulators.route_callbacks_to(app, platform.core.web.base_url.rstrip("/"))
    async with app_client(platform, identity=make_identity(user_id=user_id), app=app) as customer:
        yield PaymentsWorld(platform, app, emulators, customer, user_id)
