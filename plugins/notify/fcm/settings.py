"""The ``[plugins."notify.fcm"]`` section, and the channel it configures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, field_validator

from core.sandbox import provider_url
from plugins.notify.fcm.auth import AccessTokens, ServiceAccount, sandbox_account
from plugins.notify.fcm.channel import PRODUCTION_URL, FcmChannel
from plugins.notify.fcm.devices import PushDevices
from plugins.notify.provider import ProviderHttp, ProviderSettings, channel_wanted

if TYPE_CHECKING:
    from core.platform import Platform


class FcmSettings(ProviderSettings):
    #: The Firebase project's service-account JSON key (give it as ``{ file = "/run/secrets/fcm.json" }``).
    service_account: SecretStr | None = None
    #: Where access tokens come from; empty: the key's ``token_uri`` for production FCM, else
    #: ``<base_url>/token`` (the emulator plays both).
    token_uri: str | None = None
    #: Days to remember which devices a delivery reached (a retry skips them).
    keep_sends_days: int = Field(7, ge=1, le=90)

    @field_validator("service_account")
    @classmethod
    def _a_service_account(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                ServiceAccount.from_json(value.get_secret_value())
            except ValueError as exc:  # JSONDecodeError included; never echo the key itself
                raise ValueError(f"not a service-account JSON key: {str(exc).split(':')[0]}") from None
        return value


def account_of(settings: FcmSettings, platform: Platform) -> ServiceAccount:
    if settings.service_account is None:
        return sandbox_account(platform.data_dir)
    return ServiceAccount.from_json(settings.service_account.get_secret_value())


def build_channel(settings: FcmSettings, platform: Platform) -> FcmChannel | None:
    if not channel_wanted(platform, "notify.fcm", settings.service_account is not None):
        return None
    account = account_of(settings, platform)
    url = provider_url(platform, settings.base_url, "fcm", PRODUCTION_URL)
    # An emulator (a base_url, or the sandbox's) plays the token endpoint too, at /token.
    token_uri = settings.token_uri or (account.token_uri if url == PRODUCTION_URL else f"{url}/token")
    tokens = AccessTokens(account, ProviderHttp("fcm token", token_uri, settings.timeout_s))
    return FcmChannel(ProviderHttp("fcm", url, settings.timeout_s), tokens, account.project_id,
                      platform.service(PushDevices))
