"""The ``[plugins."notify.mts"]`` section, and the channel it configures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, SecretStr

from core.sandbox import provider_url
from plugins.notify.mts.channel import PRODUCTION_URL, MtsChannel
from plugins.notify.mts.emulator import SANDBOX_KEY
from plugins.notify.provider import ProviderHttp, ProviderSettings, channel_wanted, secret_or

if TYPE_CHECKING:
    from core.platform import Platform


class MtsSettings(ProviderSettings):
    #: The Exolve application's API key (sent as ``Authorization: Bearer``); give it by reference.
    api_key: SecretStr | None = None
    #: The sender: an Exolve number (digits) or an approved alpha-name.
    sender: str = Field("KOPILKA", min_length=1, max_length=20)


def build_channel(settings: MtsSettings, platform: Platform) -> MtsChannel | None:
    if not channel_wanted(platform, "notify.mts", settings.api_key is not None):
        return None
    url = provider_url(platform, settings.base_url, "mts", PRODUCTION_URL)
    return MtsChannel(ProviderHttp("mts", url, settings.timeout_s), secret_or(settings.api_key, SANDBOX_KEY),
                      settings.sender)
