"""What people are told when a payment moves: the customer, and finance for approvals."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.payments.records import PaymentRecord

log = logging.getLogger(__name__)

NOTIFY_TASK = "payments.notify"

#: Statuses the customer hears about (the others are steps they took themselves or wait through).
TOLD = frozenset({"succeeded", "failed", "canceled", "rejected", "refunded", "awaiting_approval"})


def _params(payment: PaymentRecord) -> dict[str, Any]:
    return {"payment_id": str(payment.id), "kind": payment.kind.value, "amount_minor": payment.amount.minor,
            "currency": payment.amount.currency, "status": payment.status.value,
            "destination": str(payment.destination.get("masked", "")), "error": payment.error_message[:200]}


async def announce(platform: Platform, payment: PaymentRecord, new_status: str) -> None:
    """Queue the notices (a durable task), so a provider's callback is answered without waiting for them."""
    if new_status not in TOLD:
        return
    from core.jobs.runtime import Jobs

    await platform.service(Jobs).kick(NOTIFY_TASK, payment_id=str(payment.id), new_status=new_status)


async def status_changed(platform: Platform, payment: PaymentRecord, new_status: str) -> None:
    """The ``payments.notify`` task: tell the customer, and finance when a payout waits for them."""
    from core.notifications.service import NotificationService

    if new_status not in TOLD or not platform.has_service(NotificationService):
        return
    notifications = platform.service(NotificationService)
    assert platform.db is not None
    try:
        # Its own transaction: a notice that cannot be stored leaves nothing half-written behind.
        async with platform.db.transaction():
            await notifications.notify(payment.user_id, "payments.status", _params(payment))
            if new_status == "awaiting_approval":
                await _tell_finance(platform, payment)
    except Exception:  # a notice must never undo or block a payment
        log.exception("could not tell anyone about payment %s", payment.id)


async def _tell_finance(platform: Platform, payment: PaymentRecord) -> None:
    from core.access.roles import Roles
    from core.notifications.service import NotificationService

    if not platform.has_service(Roles):
        return
    for user_id in (await platform.service(Roles).holders("payments.approve_payout"))[:50]:
        await platform.service(NotificationService).notify(user_id, "payments.approval_needed", _params(payment),
                                                           via=())
