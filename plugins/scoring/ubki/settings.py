"""The ``[plugins."scoring.ubki"]`` section, and the provider it configures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from plugins.scoring import sandbox
from plugins.scoring.ubki.emulator import build_emulator
from plugins.scoring.ubki.provider import PRODUCTION_API, UbkiProvider

if TYPE_CHECKING:
    from core.platform import Platform

SANDBOX_LOGIN = "sandbox"
SANDBOX_PASSWORD = "sandbox"


class UbkiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The member's API login and password. The defaults only open the sandbox emulator.
    login: str = SANDBOX_LOGIN
    password: SecretStr = SecretStr(SANDBOX_PASSWORD)
    #: Base of the API (``.../b2_api_xml/ubki``); empty: production, or the emulator in sandbox mode.
    #: UBKI's test environment is ``https://test.ubki.ua/b2_api_xml/ubki``.
    api_url: str | None = None
    #: Report type asked for (ref. 49): "10" credit report with the MFI score, "46" FICO score.
    report_type: Literal["10", "46"] = "10"
    #: Purpose of the request (ref. 24) and language of the search (ref. 23).
    request_reason: str = "2"
    language: str = "1"
    timeout_s: float = Field(30, gt=0)


def uses_sandbox_credentials(settings: UbkiSettings) -> bool:
    return settings.password.get_secret_value() == SANDBOX_PASSWORD


def build_provider(settings: UbkiSettings, platform: Platform) -> UbkiProvider:
    options = dict(login=settings.login, password=settings.password.get_secret_value(),
                   report_type=settings.report_type, reason=settings.request_reason, language=settings.language,
                   timeout_s=settings.timeout_s)
    if settings.api_url or not sandbox.sandbox_on(platform):
        return UbkiProvider(api_url=settings.api_url or PRODUCTION_API, **options)
    emulator = build_emulator(settings)
    provider = UbkiProvider(api_url=sandbox.base_url("ubki"), transport=sandbox.InProcessTransport(emulator.app()),
                            **options)
    provider.emulator = emulator  # type: ignore[attr-defined]  # shown at /sandbox/ubki
    return provider
