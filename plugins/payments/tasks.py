"""Background work of the payments plugin.

* ``payments.janitor`` (cron, ``janitor_cron``): asks providers about payments whose
  outcome is not known yet (pending, unknown) and sends approved payouts whose task was
  lost, until every one is final (Kill Bill's janitor).
* ``payments.execute_payout``: sends one approved withdrawal to its gateway.
* ``payments.execute_refund``: carries out a refund approved by two people.
* ``payments.notify``: tells the customer their payment moved (and finance that a payout
  waits for approval); queued after the change commits, so callbacks never wait for it.
* ``payments.reconcile`` (close of day): compares each provider's view of the day with
  our records and the ledger and files a report of every difference.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID


async def janitor(platform: Any) -> dict[str, int]:
    """Settle what can be settled among payments with an unknown outcome."""
    from plugins.payments.service import Payments

    return await platform.service(Payments).run_janitor()


async def execute_payout(platform: Any, payment_id: str) -> str | None:
    """Send one approved payout (running it twice sends it once)."""
    from plugins.payments.service import Payments

    payment = await platform.service(Payments).execute_payout(UUID(payment_id))
    return payment.status.value if payment else None


async def execute_refund(platform: Any, payment_id: str, amount_minor: int, actor: str,
                         refund_id: str | None = None) -> str | None:
    """Carry out a refund two people approved (delivered twice, it is sent once: ``refund_id``)."""
    from plugins.payments.service import Payments

    payment = await platform.service(Payments).refund_task(UUID(payment_id), amount_minor, actor, refund_id)
    return payment.status.value if payment else None


async def notify(platform: Any, payment_id: str, new_status: str) -> None:
    """Tell the customer (and finance, for approvals) that a payment moved."""
    from plugins.payments.notices import status_changed
    from plugins.payments.service import Payments

    payment = await platform.service(Payments).store.get(UUID(payment_id))
    if payment is not None:
        await status_changed(platform, payment, new_status)


async def reconcile(platform: Any, business_date: dt.date) -> list[int]:
    """The day's reconciliation of every gateway."""
    from plugins.payments.reconciliation import Reconciler

    return await Reconciler(platform).run(business_date)
