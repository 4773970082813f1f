"""The ``[plugins."payments.fondy"]`` section, and the gateway it configures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from plugins.payments.fondy.gateway import PRODUCTION_API, FondyGateway
from plugins.payments.sandbox import provider_url

if TYPE_CHECKING:
    from core.platform import Platform


TEST_MERCHANT_ID = 1396424
TEST_SECRET_KEY = "test"
TEST_CREDIT_KEY = "testcredit"


class FondySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The defaults are Fondy's public test merchant (``1396424`` / ``test`` / ``testcredit``):
    #: fine for the sandbox, and the platform warns when they are used outside it.
    merchant_id: int = Field(TEST_MERCHANT_ID, gt=0)
    #: The merchant's payment key (signs requests, checks answers and callbacks).
    secret_key: SecretStr = SecretStr(TEST_SECRET_KEY)
    #: The separate key for P2P credits; empty: no payouts.
    credit_key: SecretStr | None = SecretStr(TEST_CREDIT_KEY)
    #: Base of the API (``https://pay.fondy.eu/api``); empty: production, or the sandbox emulator.
    api_url: str | None = None
    currencies: list[str] = Field(default_factory=lambda: ["UAH", "USD", "EUR", "GBP"])
    #: Seconds the customer has on the hosted page before the order expires.
    lifetime_s: int = Field(3600, ge=60)
    #: Seconds to wait for an answer before the outcome counts as unknown.
    timeout_s: float = Field(30, gt=0)


def uses_test_merchant(settings: FondySettings) -> bool:
    return settings.secret_key.get_secret_value() == TEST_SECRET_KEY


def build_gateway(settings: FondySettings, platform: Platform) -> FondyGateway:
    base = provider_url(platform, None, "fondy", "")
    return FondyGateway(
        merchant_id=settings.merchant_id,
        secret_key=settings.secret_key.get_secret_value(),
        credit_key=settings.credit_key.get_secret_value() if settings.credit_key else None,
        api_url=settings.api_url or (f"{base}/api" if base else PRODUCTION_API),
        currencies=frozenset(settings.currencies),
        lifetime_s=settings.lifetime_s,
        timeout_s=settings.timeout_s,
    )
