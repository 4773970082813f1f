"""The ``[plugins."payments.wayforpay"]`` section, and the gateway it configures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from plugins.payments.sandbox import provider_url
from plugins.payments.wayforpay.gateway import PRODUCTION_API_URL, PRODUCTION_PAY_URL, WayForPayGateway

if TYPE_CHECKING:
    from core.platform import Platform


TEST_MERCHANT_ACCOUNT = "test_merch_n1"
TEST_SECRET_KEY = "flk3409refn54t54t*FNJRET"


class WayForPaySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The defaults are WayForPay's public test merchant (``test_merch_n1``): fine for the
    #: sandbox, and the platform warns when they are used outside it.
    merchant_account: str = Field(TEST_MERCHANT_ACCOUNT, min_length=1)
    secret_key: SecretStr = SecretStr(TEST_SECRET_KEY)
    #: The shop's domain as registered with WayForPay (part of the purchase signature).
    merchant_domain: str = Field("www.market.ua", min_length=1)
    #: The hosted page and the API; empty: production, or the sandbox emulator.
    pay_url: str | None = None
    api_url: str | None = None
    currencies: list[str] = Field(default_factory=lambda: ["UAH", "USD", "EUR"])
    order_lifetime_s: int = Field(3600, ge=60)
    timeout_s: float = Field(30, gt=0)


def uses_test_merchant(settings: WayForPaySettings) -> bool:
    return settings.secret_key.get_secret_value() == TEST_SECRET_KEY


def build_gateway(settings: WayForPaySettings, platform: Platform) -> WayForPayGateway:
    base = provider_url(platform, None, "wayforpay", "")
    return WayForPayGateway(
        merchant_account=settings.merchant_account,
        secret_key=settings.secret_key.get_secret_value(),
        merchant_domain=settings.merchant_domain,
        pay_url=settings.pay_url or (f"{base}/pay" if base else PRODUCTION_PAY_URL),
        api_url=settings.api_url or (f"{base}/api" if base else PRODUCTION_API_URL),
        currencies=frozenset(settings.currencies),
        order_lifetime_s=settings.order_lifetime_s,
        timeout_s=settings.timeout_s,
    )
