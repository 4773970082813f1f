"""Background work of the users plugin."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from core.users.service import Users
from core.users.sessions import Sessions

if TYPE_CHECKING:
    from core.platform import Platform

log = logging.getLogger(__name__)


async def housekeeping(platform: Platform) -> dict[str, int]:
    """Daily: forget ended sessions and registrations nobody confirmed within a week."""
    done = {
        "sessions_purged": await platform.service(Sessions).purge(),
        "registrations_purged": await platform.service(Users).purge_abandoned(),
    }
    log.info("users housekeeping: %s", done)
    return done
