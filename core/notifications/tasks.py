"""Background work of the notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.notifications.service import NotificationService

if TYPE_CHECKING:
    from core.platform import Platform


async def deliver_due(platform: Platform) -> dict[str, int]:
    """Every minute: retry failed deliveries, resume interrupted ones, give up expired ones."""
    return await platform.service(NotificationService).deliver_due()
