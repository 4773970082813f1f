"""Writing to the platform's audit log (``core.access``' ``AuditLog``) when it is there.

The payments plugin keeps its own trail of every payment (``payments_events``) and of
every callback (``payments_callbacks``); security events (forged callbacks, amount
mismatches, admin actions on money) are also recorded in the platform-wide audit log,
where security staff look.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.platform import Platform

log = logging.getLogger("kopilka.payments.audit")


async def record_audit(platform: Platform, action: str, *, subject: str, details: Mapping[str, Any],
                       actor: Any = None) -> None:
    try:
        from core.access.audit import AuditLog
    except ImportError:
        AuditLog = None
    if AuditLog is None or not platform.has_service(AuditLog):
        log.warning("audit %s %s %s", action, subject, dict(details))
        return
    await platform.service(AuditLog).record(action, subject=subject, details=dict(details), actor=actor)
