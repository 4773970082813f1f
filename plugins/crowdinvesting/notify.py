"""Telling investors what happened, and recording who did what: the seam to core.notifications and core.access.

Messages go through ``core.notifications.NotificationService.notify(user_id, kind, params)``
(kinds ``crowdinvesting.<name>``, texts in ``templates/crowdinvesting/notifications/<name>.txt``);
admin actions are recorded in ``core.access.audit.AuditLog``. Both come from the users branch:
while a deployment runs without them, :class:`Notices` logs instead, so nothing here fails.
Messages to every investor of a project go through the ``crowdinvesting.notify_investors`` task,
kicked after commit, so a publication to 100,000 investors does not hold a web request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

if TYPE_CHECKING:
    from core.platform import Platform

log = logging.getLogger("kopilka.crowdinvesting")


def _service(platform: Platform, module: str, name: str) -> Any:
    try:
        kind = getattr(__import__(module, fromlist=[name]), name)
    except (ImportError, AttributeError):
        return None
    return platform.service(kind) if platform.has_service(kind) else None


class Notices:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def tell(self, user_ids: Iterable[UUID], kind: str, params: Mapping[str, Any]) -> int:
        """Notify each user (in-app, and by their preferred channel); returns how many were told."""
        service = _service(self.platform, "core.notifications", "NotificationService")
        told = 0
        for user_id in user_ids:
            if service is None:
                log.debug("notice %s to %s: %s", kind, user_id, params)
            else:
                await service.notify(user_id, f"crowdinvesting.{kind}", dict(params))
            told += 1
        return told

    async def audit(self, action: str, *, actor: Any, target: str, **details: Any) -> None:
        audit_log = _service(self.platform, "core.access.audit", "AuditLog")
        if audit_log is None:
            log.info("audit crowdinvesting.%s by %s on %s: %s", action, actor, target, details)
            return
        await audit_log.record(action=f"crowdinvesting.{action}", target=target, actor=actor,
                               details={k: str(v) for k, v in details.items()})

    async def investors_of_project(self, project_id: UUID, kind: str, params: Mapping[str, Any]) -> None:
        """Kick the task that tells every investor of a project (queued only if the caller commits)."""
        from core.jobs.runtime import Jobs

        await self.platform.service(Jobs).kick("crowdinvesting.notify_investors", project_id=str(project_id),
                                               kind=kind, params=dict(params))
