"""The ``[plugins."scoring.scorista"]`` section, and the provider it configures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from plugins.scoring import sandbox
from plugins.scoring.scorista.emulator import build_emulator
from plugins.scoring.scorista.provider import PRODUCTION_API, ScoristaProvider

if TYPE_CHECKING:
    from core.platform import Platform

SANDBOX_USERNAME = "sandbox@example.com"
#: The token of the self-computed test vector in the protocol notes; it only opens the emulator.
SANDBOX_TOKEN = "12e520ee87037763eb8e3237e6b82dfe696d2c3a"


class ScoristaSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The account's e-mail and API token (40 hex). The defaults only open the sandbox emulator.
    username: str = SANDBOX_USERNAME
    token: SecretStr = SecretStr(SANDBOX_TOKEN)
    #: Base of the API; empty: production (``https://api.scorista.ru``), or the emulator in sandbox mode.
    api_url: str | None = None
    #: The product: "mixed" (bureau data and Scorista's model), "mixedcheck", "dossier".
    product: str = Field("mixed", pattern=r"^[a-z]+$")
    timeout_s: float = Field(30, gt=0)


def uses_sandbox_credentials(settings: ScoristaSettings) -> bool:
    return settings.token.get_secret_value() == SANDBOX_TOKEN


def build_provider(settings: ScoristaSettings, platform: Platform) -> ScoristaProvider:
    options = dict(username=settings.username, token=settings.token.get_secret_value(), product=settings.product,
                   timeout_s=settings.timeout_s)
    if settings.api_url or not sandbox.sandbox_on(platform):
        return ScoristaProvider(api_url=settings.api_url or PRODUCTION_API, **options)
    emulator = build_emulator(settings)
    provider = ScoristaProvider(api_url=sandbox.base_url("scorista"),
                                transport=sandbox.InProcessTransport(emulator.app()), **options)
    provider.emulator = emulator  # type: ignore[attr-defined]  # shown at /sandbox/scorista
    return provider
