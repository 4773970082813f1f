"""The ``[plugins."kyc.itn"]`` section, and the check it configures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from core.access.ratelimit import Limit, RateLimiter
from core.sandbox import provider_url
from plugins.kyc.itn.check import ItnCheck
from plugins.kyc.itn.client import PRODUCTION_URL, FnsClient

if TYPE_CHECKING:
    from core.platform import Platform


class ItnSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Ask the tax service whose ITN this is (needs the passport); false: check digits only.
    lookup: bool = True
    #: The service's address; empty: service.nalog.ru, or the sandbox emulator with ``[platform] sandbox = true``.
    base_url: str | None = None
    #: Seconds one HTTP call may take.
    timeout_s: float = Field(10, gt=0)
    #: Seconds between the request and the first ask for its answer.
    first_poll_delay_s: float = Field(0.5, ge=0)
    #: Seconds before asking again about an answer still being prepared.
    poll_after_s: int = Field(10, ge=1)
    #: Seconds to leave the service alone after it asked for a captcha.
    captcha_backoff_s: int = Field(900, ge=1)
    #: Seconds to wait after HTTP 429 without a Retry-After.
    throttle_backoff_s: int = Field(300, ge=1)
    #: Conversations with the service per minute, across every process (0: no limit of ours).
    requests_per_minute: int = Field(20, ge=0)


def build_check(settings: ItnSettings, platform: Platform) -> ItnCheck:
    client = pace = None
    if settings.lookup:
        client = FnsClient(provider_url(platform, settings.base_url, "fns", PRODUCTION_URL),
                           timeout_s=settings.timeout_s, first_poll_delay_s=settings.first_poll_delay_s)
    if settings.lookup and settings.requests_per_minute:
        limit = Limit("kyc.itn.fns", settings.requests_per_minute, 60)
        limiter = platform.service(RateLimiter)

        async def pace() -> int | None:
            decision = await limiter.hit(limit, "all")
            return None if decision.allowed else decision.retry_after_s

    return ItnCheck(client, poll_after_s=settings.poll_after_s, captcha_backoff_s=settings.captcha_backoff_s,
                    throttle_backoff_s=settings.throttle_backoff_s, pace=pace)
