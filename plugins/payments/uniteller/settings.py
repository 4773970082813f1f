"""The ``[plugins."payments.uniteller"]`` section, and the gateway it configures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from plugins.payments.sandbox import provider_url
from plugins.payments.uniteller.gateway import PRODUCTION_URL, UnitellerGateway

if TYPE_CHECKING:
    from core.platform import Platform


TEST_SHOP_ID = "ACME"
TEST_PASSWORD = "LONG-PWD"


class UnitellerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The point of sale (Shop_IDP / Shop_ID). The defaults are the test shop of
    #: Uniteller's SDK (``ACME`` / ``LONG-PWD``): fine for the sandbox, and the platform
    #: warns when they are used outside it.
    shop_id: str = Field(TEST_SHOP_ID, min_length=1)
    #: Back-office API login and password; the password also signs forms and callbacks.
    login: str = Field("sandbox", min_length=1)
    password: SecretStr = SecretStr(TEST_PASSWORD)
    #: Base URL (``https://wpay.uniteller.ru``); empty: production, or the sandbox emulator.
    api_url: str | None = None
    currency: str = "RUB"
    lifetime_s: int = Field(3600, ge=60)
    timeout_s: float = Field(30, gt=0)


def uses_test_merchant(settings: UnitellerSettings) -> bool:
    return settings.password.get_secret_value() == TEST_PASSWORD


def build_gateway(settings: UnitellerSettings, platform: Platform) -> UnitellerGateway:
    return UnitellerGateway(
        shop_id=settings.shop_id,
        login=settings.login,
        password=settings.password.get_secret_value(),
        api_url=settings.api_url or provider_url(platform, None, "uniteller", PRODUCTION_URL),
        currency=settings.currency,
        lifetime_s=settings.lifetime_s,
        timeout_s=settings.timeout_s,
    )
