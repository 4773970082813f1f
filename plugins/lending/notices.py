"""Telling borrowers what happened to their loan (core.notifications).

Messages are ``lending.<kind>`` with texts in ``templates/lending/notifications/<kind>.txt``.
They are written in the caller's transaction (under a savepoint) and delivered after it commits,
so a loan that rolls back tells no one; a borrower id that is not a user only logs a warning.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg

from core.notifications.service import NotificationService

if TYPE_CHECKING:
    from core.platform import Platform

log = logging.getLogger("kopilka.lending")


async def tell(platform: Platform, user_id: UUID, kind: str, **params: Any) -> None:
    try:
        async with platform.db.transaction():
            await platform.service(NotificationService).notify(user_id, f"lending.{kind}", params)
    except asyncpg.ForeignKeyViolationError:
        log.warning("lending.%s: %s is not a user; nobody to tell", kind, user_id)
