"""One-time codes that confirm a withdrawal (``core.access`` confirmations).

The code is bound to what it confirms (the payment, amount, currency, gateway and
destination), so it cannot approve another withdrawal; it goes to the customer's
address through the notification service, and wrong guesses are limited there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from core.access.confirmations import Confirmations

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.payments.records import PaymentRecord

PURPOSE = "payments.withdrawal"


def payload(payment: PaymentRecord) -> dict[str, Any]:
    """Exactly what the code confirms."""
    return {"payment_id": str(payment.id), "amount": payment.amount.minor, "currency": payment.amount.currency,
            "gateway": payment.gateway, "destination": str(payment.destination.get("masked", ""))}


class WithdrawalCodes:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    async def issue(self, payment: PaymentRecord) -> str:
        """Send the customer a code for ``payment``; return the challenge's id."""
        from core.web.i18n import gettext as _

        summary = _("Withdrawal of %(amount)s to %(destination)s", amount=payment.amount.format(),
                    destination=payload(payment)["destination"])
        challenge = await self.platform.service(Confirmations).issue(
            user_id=payment.user_id, purpose=PURPOSE, payload=payload(payment), summary=summary)
        return str(challenge.id)

    async def verify(self, payment: PaymentRecord, code: str) -> None:
        """Raise a 4xx unless ``code`` confirms exactly this withdrawal."""
        await self.platform.service(Confirmations).verify(UUID(payment.confirmation_ref), code, purpose=PURPOSE,
                                                          payload=payload(payment), user_id=payment.user_id)
