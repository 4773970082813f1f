"""Background work of ``core.access``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from core.access.approvals import Approvals
from core.access.confirmations import Confirmations
from core.access.ratelimit import RateLimiter

if TYPE_CHECKING:
    from core.platform import Platform

log = logging.getLogger(__name__)


async def housekeeping(platform: Platform) -> dict[str, int]:
    """Hourly: expire unanswered approval requests, forget old codes and spent rate-limit windows."""
    done = {
        "approvals_expired": await platform.service(Approvals).expire_stale(),
        "codes_purged": await platform.service(Confirmations).purge_expired(),
        "rate_limits_purged": await platform.service(RateLimiter).purge_expired(),
    }
    log.info("access housekeeping: %s", done)
    return done
