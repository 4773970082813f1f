"""Test helpers for payment gateways: emulators on loopback ports, callbacks collected.

Used by the payments plugin's tests and the gateway contract suite
(``tests/contracts/test_payment_gateways.py``); a third-party gateway plugin can use them
to run the same suite against its own emulator.
"""

from __future__ import annotations

import importlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from litestar import Litestar, Request, Response, post

from core.contracts.payments import CallbackRequest, Customer, PaymentGateway, PaymentRequest
from core.money import Money
from core.sandbox import LoopbackServer
from core.testing import free_port
from plugins.payments.emulation import HostedPageCustomer, ProviderEmulator

PROVIDERS = ("fondy", "wayforpay", "uniteller", "bank_transfer")

BANK_DETAILS = {
    "beneficiary_name": "ООО «Копилка»", "beneficiary_tax_id": "7707083893", "beneficiary_tax_reason_code": "773601001",
    "account_number": "40702810900000000001", "bank_name": "Sandbox Bank", "bank_code": "044525225",
    "correspondent_account": "30101810400000000225",
}


def default_settings(provider: str) -> Any:
    """A gateway plugin's settings with their defaults (the providers' public test merchants)."""
    module = importlib.import_module(f"plugins.payments.{provider}.settings")
    model = next(v for k, v in vars(module).items() if k.endswith("Settings") and k != "BaseModel")
    return model(**(BANK_DETAILS if provider == "bank_transfer" else {}))


@dataclass
class Sandbox:
    """The built-in providers' emulators, each on its own loopback port."""

    emulators: dict[str, ProviderEmulator]
    urls: dict[str, str]
    servers: list[LoopbackServer] = field(default_factory=list)

    @classmethod
    async def start(cls, providers: tuple[str, ...] = PROVIDERS, **options: Any) -> Sandbox:
        options = {"retry_delays": (), "callback_delay_s": 0.3, "stall_s": 1.5, **options}
        box = cls({}, {})
        for provider in providers:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            module = importlib.import_module(f"plugins.payments.{provider}.emulator")
            emulator = module.build_emulator(default_settings(provider), public_url=url, **options)
            box.servers.append(await LoopbackServer(emulator.app(), port).start())
            box.emulators[provider], box.urls[provider] = emulator, url
        return box

    async def stop(self) -> None:
        for emulator in self.emulators.values():
            await emulator.close()
        for server in self.servers:
            await server.stop()

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
        """Deliver every emulator's callbacks to ``app`` in-process."""
        transport = httpx.ASGITransport(app=app, client=("10.0.0.7", 40000))
        for name, emulator in self.emulators.items():
            emulator.callback_transport = transport
            emulator.default_callback_url = f"{base_url}/api/v1/payments/callbacks/{name}"

    async def idle(self) -> None:
        for emulator in self.emulators.values():
            await emulator.idle()


class CallbackCollector:
    """A merchant endpoint that keeps every callback and answers as ``gateway`` says it should."""

    URL = "http://merchant.test/callback"

    def __init__(self, gateway: PaymentGateway) -> None:
        self.gateway = gateway
        self.received: list[CallbackRequest] = []

        @post("/callback", status_code=200)
        async def collect(request: Request[Any, Any, Any]) -> Response[bytes]:
            callback = CallbackRequest(await request.body(), request.headers.get("content-type", ""))
            self.received.append(callback)
            note = self.gateway.parse_callback(callback)
            reply = self.gateway.acknowledge(note, note.verified)
            return Response(reply.body, status_code=reply.status_code, media_type=reply.content_type)

        self.app = Litestar([collect], openapi_config=None)
        self.transport = httpx.ASGITransport(app=self.app)


@dataclass
class GatewayHarness:
    """One gateway, its emulator and a customer: what the contract suite drives."""

    gateway: PaymentGateway
    emulator: ProviderEmulator
    collector: CallbackCollector

    def request(self, amount: str = "150.00", *, save_card: bool = False, currency: str | None = None) -> PaymentRequest:
        currency = currency or ("RUB" if "RUB" in self.gateway.currencies else sorted(self.gateway.currencies)[0])
        return PaymentRequest(payment_id=str(uuid.uuid4()), amount=Money.of(amount, currency),
                              description="Contract suite payment", customer=Customer(id="c-1", email="c@example.com"),
                              return_url="http://merchant.test/return", callback_url=CallbackCollector.URL,
                              save_card=save_card)

    async def customer_opens(self, redirect: Any) -> None:
        """The customer reaches the provider's page and leaves without paying."""
        async with httpx.AsyncClient(follow_redirects=True, timeout=10) as client:
            await HostedPageCustomer().open(client, redirect)

    async def customer_pays(self, request: PaymentRequest, redirect: Any, card: str = "4444555511116666", *,
                            cancel: bool = False) -> None:
        """What the customer does on the provider's side; then wait for the callbacks."""
        if self.emulator.provider == "bank_transfer":
            if not cancel:
                from plugins.payments.bank_transfer.reference import reference_for

                await send_bank_transfer(self.emulator.public_url, request.amount,
                                         reference_for(uuid.UUID(request.payment_id)))
        else:
            await HostedPageCustomer().pay(redirect, card, cancel=cancel)
        await self.emulator.idle()


async def send_bank_transfer(bank_url: str, amount: Money, reference: str) -> httpx.Response:
    """The customer sends a transfer from the sandbox bank's page, quoting the invoice's reference."""
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(f"{bank_url}/pay", data={
            "payer": "TEST CUSTOMER", "amount": str(amount.amount), "currency": amount.currency,
            "purpose": f"Payment under invoice {reference}"})
