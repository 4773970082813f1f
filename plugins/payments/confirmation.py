"""One-time codes that confirm a withdrawal: the seam to ``core.users``' confirmations.

A code is bound to what it confirms (the payment, amount, currency, destination), so it
cannot approve another withdrawal. The codes themselves, their delivery and the limits
on guessing belong to the platform's ``Confirmations`` service (``core.access``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar.exceptions import ClientException

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.payments.records import PaymentRecord

PURPOSE = "payments.withdrawal"


class ConfirmationUnavailable(ClientException):
    status_code = 503


def payload(payment: PaymentRecord) -> dict[str, Any]:
    """Exactly what the code confirms."""
    return {"payment_id": str(payment.id), "amount": payment.amount.minor, "currency": payment.amount.currency,
            "gateway": payment.gateway, "destination": str(payment.destination.get("masked", ""))}


class WithdrawalCodes:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def _service(self) -> Any:
        try:
            from core.access.confirmations import Confirmations
        except ImportError:
            Confirmations = None
        if Confirmations is None or not self.platform.has_service(Confirmations):
            raise ConfirmationUnavailable("withdrawals need one-time codes, and no confirmation service is enabled")
        return self.platform.service(Confirmations)

    async def issue(self, payment: PaymentRecord) -> str:
        """Send the customer a code for ``payment``; return the challenge's id."""
        from core.web.i18n import gettext as _

        summary = _("Withdrawal of %(amount)s to %(destination)s", amount=str(payment.amount),
                    destination=payload(payment)["destination"])
        challenge = await self._service().issue(user_id=payment.user_id, purpose=PURPOSE, payload=payload(payment),
                                                summary=summary)
        return str(challenge.id)

    async def verify(self, payment: PaymentRecord, code: str) -> None:
        """Raise a 4xx unless ``code`` confirms exactly this withdrawal."""
        from uuid import UUID

        await self._service().verify(UUID(payment.confirmation_ref), code.strip(), purpose=PURPOSE,
                                     payload=payload(payment), user_id=payment.user_id)
