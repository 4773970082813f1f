"""The ``[plugins."notify.sendsay"]`` section, and the channel it configures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, SecretStr

from core.sandbox import provider_url
from plugins.notify.provider import ProviderHttp, ProviderSettings, channel_wanted, secret_or
from plugins.notify.sendsay.channel import SendsayChannel
from plugins.notify.sendsay.client import PRODUCTION_URL, SendsayClient
from plugins.notify.sendsay.emulator import SANDBOX_LOGIN, SANDBOX_PASSWORD

if TYPE_CHECKING:
    from core.platform import Platform


class SendsaySettings(ProviderSettings):
    #: The account's login.
    login: str | None = None
    #: The sub-user to act as; empty: the account itself.
    sublogin: str = ""
    #: The password of the login (or sub-login); give it by reference.
    password: SecretStr | None = None
    #: The sender's address (a domain the account has confirmed).
    from_email: str = Field("noreply@example.com", min_length=3, max_length=320)
    #: The sender's name as mail programs show it.
    from_name: str = Field("Kopilka", max_length=200)


def build_channel(settings: SendsaySettings, platform: Platform) -> SendsayChannel | None:
    configured = settings.login is not None and settings.password is not None
    if not channel_wanted(platform, "notify.sendsay", configured):
        return None
    url = provider_url(platform, settings.base_url, "sendsay", PRODUCTION_URL)
    client = SendsayClient(ProviderHttp("sendsay", url, settings.timeout_s), settings.login or SANDBOX_LOGIN,
                           settings.sublogin, secret_or(settings.password, SANDBOX_PASSWORD))
    return SendsayChannel(client, settings.from_email, settings.from_name)
