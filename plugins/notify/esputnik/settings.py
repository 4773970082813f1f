"""The ``[plugins."notify.esputnik"]`` section, and the channel it configures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import httpx
from pydantic import Field, SecretStr

from core.sandbox import provider_url
from plugins.notify.esputnik.channel import PRODUCTION_URL, EsputnikChannel
from plugins.notify.esputnik.emulator import SANDBOX_KEY, SANDBOX_USER
from plugins.notify.provider import ProviderHttp, ProviderSettings, channel_wanted, secret_or

if TYPE_CHECKING:
    from core.platform import Platform


class EsputnikSettings(ProviderSettings):
    #: The account's login; with an API key any name will do.
    username: str = Field(SANDBOX_USER, min_length=1, max_length=200)
    #: The account's password or API key (HTTP Basic); give it by reference.
    api_key: SecretStr | None = None
    #: What the channel delivers: ``phone``, ``email`` or both.
    address_kinds: list[Literal["phone", "email"]] = Field(default_factory=lambda: ["phone", "email"],
                                                            min_length=1)
    #: The SMS sender (an alpha-name registered with eSputnik).
    sms_from: str = Field("KOPILKA", min_length=1, max_length=11)
    #: The e-mail sender's address and name.
    email_from: str = Field("noreply@example.com", min_length=3, max_length=320)
    email_from_name: str = Field("Kopilka", max_length=200)


def build_channel(settings: EsputnikSettings, platform: Platform) -> EsputnikChannel | None:
    if not channel_wanted(platform, "notify.esputnik", settings.api_key is not None):
        return None
    url = provider_url(platform, settings.base_url, "esputnik", PRODUCTION_URL)
    auth = httpx.BasicAuth(settings.username, secret_or(settings.api_key, SANDBOX_KEY))
    return EsputnikChannel(ProviderHttp("esputnik", url, settings.timeout_s, auth=auth),
                           kinds=frozenset(settings.address_kinds), sms_from=settings.sms_from,
                           email_from=settings.email_from, email_from_name=settings.email_from_name)
