"""Telling investors what happened (core.notifications) and recording admin actions (core.access's audit log).

Messages are ``NotificationService.notify(user_id, "crowdinvesting.<name>", params)``; their texts
are ``templates/crowdinvesting/notifications/<name>.txt``. Nothing is sent from the hot path of
investing: an investment, a batch of them or a batch of refunds kicks one task inside its
transaction (queued only if it commits), and the task sends the messages. Messages to every
investor of a project (a publication, income paid, a stage funded or failed) go through
``crowdinvesting.notify_investors`` the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg

from core.access.audit import AuditLog
from core.jobs.runtime import Jobs
from core.notifications.service import NotificationService

if TYPE_CHECKING:
    from core.platform import Platform

log = logging.getLogger("kopilka.crowdinvesting")


class Notices:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def tell(self, user_ids: Iterable[UUID], kind: str, params: Mapping[str, Any]) -> int:
        """Notify each user now (in-app, and by their preferred channel); returns how many were told."""
        service = self.platform.service(NotificationService)
        told = 0
        for user_id in user_ids:
            try:
                async with self.platform.db.transaction():  # one recipient's failure spoils no one else's
                    await service.notify(user_id, f"crowdinvesting.{kind}", dict(params))
                told += 1
            except asyncpg.ForeignKeyViolationError:
                log.warning("crowdinvesting.%s: %s is not a user; nobody to tell", kind, user_id)
        return told

    async def later(self, user_ids: Iterable[UUID], kind: str, params: Mapping[str, Any]) -> None:
        """Notify users from a task (kicked inside the caller's transaction: sent only if it commits)."""
        await self.platform.service(Jobs).kick("crowdinvesting.notify_users", user_ids=[str(u) for u in user_ids],
                                               kind=kind, params=dict(params))

    async def confirm(self, investment_ids: Iterable[UUID]) -> None:
        """Confirm investments to their investors, from a task."""
        await self.platform.service(Jobs).kick("crowdinvesting.confirm_investments",
                                               investment_ids=[str(i) for i in investment_ids])

    async def investors_of_project(self, project_id: UUID, kind: str, params: Mapping[str, Any]) -> None:
        """Tell every investor of a project, from a task."""
        await self.platform.service(Jobs).kick("crowdinvesting.notify_investors", project_id=str(project_id),
                                               kind=kind, params=dict(params))

    async def audit(self, action: str, *, actor: Any, target: str, **details: Any) -> None:
        """An entry in the audit log, in the caller's transaction."""
        await self.platform.service(AuditLog).record(
            action=f"crowdinvesting.{action}", target=target, actor=actor,
            details={k: str(v) if v is not None else None for k, v in details.items()})
