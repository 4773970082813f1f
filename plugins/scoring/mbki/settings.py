"""The ``[plugins."scoring.mbki"]`` section, and the provider it configures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from plugins.scoring import sandbox
from plugins.scoring.mbki.emulator import PATH, build_emulator
from plugins.scoring.mbki.provider import PRODUCTION_API, MbkiProvider

if TYPE_CHECKING:
    from core.platform import Platform

SANDBOX_USERNAME = "sandbox"
SANDBOX_PASSWORD = "sandbox"


class MbkiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The member's CIG web-service user. The defaults only open the sandbox emulator.
    username: str = SANDBOX_USERNAME
    password: SecretStr = SecretStr(SANDBOX_PASSWORD)
    #: The service's endpoint; empty: production, or the emulator in sandbox mode. MBKI's test
    #: service is ``https://test2.credithistory.com.ua/Service/Service.asmx``.
    api_url: str | None = None
    culture: Literal["uk-UA", "ru-RU", "en-US"] = "uk-UA"
    #: Report and score product codes, and the report's format version.
    report_id: str = "200017"
    score_id: str = "200101"
    report_version: str = "2"
    #: The address MBKI is told the inquiry comes from (its logs ask for one).
    client_ip: str = "127.0.0.1"
    timeout_s: float = Field(30, gt=0)


def uses_sandbox_credentials(settings: MbkiSettings) -> bool:
    return settings.password.get_secret_value() == SANDBOX_PASSWORD


def build_provider(settings: MbkiSettings, platform: Platform) -> MbkiProvider:
    options = dict(username=settings.username, password=settings.password.get_secret_value(),
                   culture=settings.culture, report_id=settings.report_id, score_id=settings.score_id,
                   report_version=settings.report_version, client_ip=settings.client_ip, timeout_s=settings.timeout_s)
    if settings.api_url or not sandbox.sandbox_on(platform):
        return MbkiProvider(api_url=settings.api_url or PRODUCTION_API, **options)
    emulator = build_emulator(settings)
    provider = MbkiProvider(api_url=sandbox.base_url("mbki") + PATH,
                            transport=sandbox.InProcessTransport(emulator.app()), **options)
    provider.emulator = emulator  # type: ignore[attr-defined]  # shown at /sandbox/mbki
    return provider
