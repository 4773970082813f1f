"""Payment gateways (``register_payment_gateways``): one provider's wire protocol.

A gateway turns our requests into the provider's calls and the provider's answers and
callbacks into a :class:`GatewayResult`. It owns nothing else: the ``payments`` plugin
owns the payment state machine, the ledger postings, idempotency and the audit trail,
and calls exactly one gateway per payment, chosen by the name stored on the payment
(Kill Bill's routing).

Every result carries one of Kill Bill's five statuses (:class:`GatewayStatus`). A
decline, an unknown order or an unsupported operation is a *result*; a gateway raises
only for bugs. A network failure is a result too: ``CANCELED`` when the request surely
never reached the provider, ``UNDEFINED`` when it may have, so the janitor asks again.

Money crosses this boundary as :class:`~core.money.Money`; each gateway formats amounts
the way its provider wants them (minor units, ``1547.36``...) and parses them back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from core.money import Money


class GatewayStatus(StrEnum):
    """Kill Bill's ``PaymentPluginStatus``: what happened to the operation."""

    #: It went through and succeeded: money moved (or was authorised, refunded, paid out).
    PROCESSED = "processed"
    #: It went through and needs a completion step: the customer is on the hosted page,
    #: or the provider is still processing.
    PENDING = "pending"
    #: It went through but failed: declined, insufficient funds, refused by the provider.
    ERROR = "error"
    #: It may or may not have happened (a timeout, an answer we could not read or trust).
    #: Ask again with :meth:`PaymentGateway.status`.
    UNDEFINED = "undefined"
    #: It did not happen: never submitted (connection refused, not supported, expired
    #: before the customer paid).
    CANCELED = "canceled"

    @property
    def final(self) -> bool:
        return self in (GatewayStatus.PROCESSED, GatewayStatus.ERROR, GatewayStatus.CANCELED)


class Operation(StrEnum):
    PURCHASE = "purchase"      # take money now (hosted page)
    AUTHORIZE = "authorize"    # hold money on the card (hosted page); capture or void later
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"
    STATUS = "status"          # what the provider knows about a payment now
    RECURRING = "recurring"    # host to host, with a saved card token
    PAYOUT = "payout"          # push money to a card or a bank account


#: ``GatewayResult.error_code`` of an operation the gateway does not offer.
NOT_SUPPORTED = "not_supported"


@dataclass(frozen=True)
class Redirect:
    """Where to send the customer's browser: a link, or a form the browser posts."""

    url: str
    #: ``"GET"``: follow the link; ``"POST"``: submit ``fields`` as a form to ``url``.
    method: str = "GET"
    #: Ordered pairs; a name may repeat (``productName[]``).
    fields: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Customer:
    id: str = ""
    email: str = ""
    phone: str = ""
    name: str = ""
    ip: str = ""
    #: ``"ru"``, ``"en"``...: the language of the hosted page.
    language: str = ""


@dataclass(frozen=True)
class SavedCard:
    """A card the provider lets us charge again without the customer."""

    #: What the provider charges later (Fondy ``rectoken``, WayForPay ``recToken``,
    #: Uniteller's parent order). A secret: never shown, stored encrypted.
    token: str
    masked_pan: str = ""
    brand: str = ""
    #: ``"MM/YY"`` when the provider tells.
    expires: str = ""


@dataclass(frozen=True)
class PaymentRequest:
    """Take (or hold) money from a customer."""

    #: Our payment id. Sent as the provider's order id, so it is also the provider-side
    #: idempotency key: one payment is one order at the provider.
    payment_id: str
    amount: Money
    description: str
    customer: Customer = field(default_factory=Customer)
    #: Where the provider sends the customer's browser back.
    return_url: str = ""
    #: Where the provider posts its server-to-server callbacks.
    callback_url: str = ""
    #: Ask the provider for a card token to charge later.
    save_card: bool = False
    #: For :meth:`PaymentGateway.charge`: the saved card's token.
    card_token: str = ""
    #: Provider-specific extras; gateways ignore what they do not know.
    properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentRef:
    """An existing payment, as the gateway needs it for follow-up operations."""

    payment_id: str
    amount: Money
    #: The provider's reference (transaction or bill number), when it gave one.
    reference: str = ""
    created_at: dt.datetime | None = None
    #: What the payment is: a pay-in (``PURCHASE``, ``RECURRING``) or a ``PAYOUT``. A status
    #: answer can depend on it: an unpaid invoice lapses, a payout order waiting to go out does not.
    operation: Operation = Operation.PURCHASE


@dataclass(frozen=True)
class PayoutDestination:
    """Where a payout goes: a card (number or saved token) or a bank account."""

    kind: str  # "card" or "bank_account"
    card_number: str = ""
    card_token: str = ""
    account_number: str = ""
    #: Bank identifier: BIC (БИК) or SWIFT code.
    bank_code: str = ""
    bank_name: str = ""
    holder_name: str = ""
    #: Taxpayer number of the account holder, when the bank needs it.
    holder_tax_id: str = ""

    @property
    def masked(self) -> str:
        """How the destination is shown and stored in the audit trail."""
        number = self.card_number or self.account_number
        if number:
            return f"{number[:4]}…{number[-4:]}" if len(number) > 8 else "…" + number[-4:]
        return "saved card" if self.card_token else ""


@dataclass(frozen=True)
class PayoutRequest:
    payout_id: str
    amount: Money
    destination: PayoutDestination
    description: str
    customer: Customer = field(default_factory=Customer)
    properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GatewayResult:
    """What one operation did, in Kill Bill's vocabulary, with the provider's own words kept."""

    status: GatewayStatus
    operation: Operation
    #: Our id of the payment (or payout) the result is about.
    payment_id: str
    #: The amount as the provider reports it; the payments plugin checks it against its record.
    amount: Money | None = None
    #: The provider's id of the payment or transaction.
    reference: str = ""
    #: The provider's status word (``approved``, ``Declined``, ``paid``...).
    provider_status: str = ""
    #: For hosted-page operations: where to send the customer.
    redirect: Redirect | None = None
    #: A card the provider saved for recurring charges.
    card: SavedCard | None = None
    #: Total refunded so far, when the provider reports it.
    refunded: Money | None = None
    error_code: str = ""
    error_message: str = ""
    #: Further fields for the audit trail (never card numbers or secrets).
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CallbackRequest:
    """A provider's server callback, exactly as it arrived."""

    body: bytes
    content_type: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    remote_addr: str = ""


@dataclass(frozen=True)
class CallbackReply:
    """The acknowledgement the provider expects (a bare 200, a signed JSON...)."""

    status_code: int = 200
    body: bytes = b"OK"
    content_type: str = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Notification:
    """A parsed callback. Only a ``verified`` one may change anything."""

    verified: bool
    #: The payment the callback claims to be about (also for rejected ones, for the audit).
    payment_id: str = ""
    #: Set when verified.
    result: GatewayResult | None = None
    #: Why it was not verified: ``"bad signature"``, ``"malformed: ..."``.
    problem: str = ""


@runtime_checkable
class PaymentGateway(Protocol):
    """One provider. Every method returns a result and raises only for bugs."""

    #: Registry key, stored on every payment: ``"fondy"``.
    name: str
    #: Shown to customers: ``"Fondy"``.
    title: str
    #: ISO 4217 codes the gateway accepts.
    currencies: frozenset[str]

    supports_redirect: bool        # purchase/authorize through a hosted page
    supports_authorize: bool       # authorize + capture + void
    supports_refund: bool
    supports_partial_refund: bool
    supports_recurring: bool       # charge() with a saved card token
    supports_payout: bool
    supports_callbacks: bool       # the provider posts server callbacks
    supports_listing: bool         # transactions(): the provider's list, for reconciliation
    #: Where payouts can go: ``"card"`` (a saved card token), ``"bank_account"``.
    payout_destinations: frozenset[str]

    async def purchase(self, request: PaymentRequest) -> GatewayResult:
        """Start taking money: usually PENDING with a :class:`Redirect` to the hosted page."""
        ...

    async def authorize(self, request: PaymentRequest) -> GatewayResult:
        """Like purchase, but only hold the money."""
        ...

    async def capture(self, payment: PaymentRef, amount: Money) -> GatewayResult: ...

    async def void(self, payment: PaymentRef) -> GatewayResult: ...

    async def refund(self, payment: PaymentRef, amount: Money, refund_id: str) -> GatewayResult:
        """Give back ``amount`` of a processed payment; ``refund_id`` is our id of the refund."""
        ...

    async def status(self, payment: PaymentRef) -> GatewayResult:
        """Ask the provider what happened (Kill Bill's ``getPaymentInfo``); used by the janitor."""
        ...

    async def charge(self, request: PaymentRequest) -> GatewayResult:
        """Charge ``request.card_token`` host to host, without the customer."""
        ...

    async def payout(self, request: PayoutRequest) -> GatewayResult: ...

    async def transactions(self, since: dt.datetime, until: dt.datetime) -> Sequence[GatewayResult]:
        """The provider's own list of payments in a period (for reconciliation); empty if not supported."""
        ...

    def parse_callback(self, callback: CallbackRequest) -> Notification:
        """Parse and verify a callback (constant-time signature check). No I/O; never raises."""
        ...

    def acknowledge(self, notification: Notification, accepted: bool) -> CallbackReply:
        """The reply the provider expects: acceptance, or a refusal that makes it retry."""
        ...


class GatewayDefaults:
    """Answers for the operations a gateway does not offer: CANCELED, ``not_supported``.

    Gateways inherit from it and override what their provider supports, so every
    protocol method exists and none raises.
    """

    name: str = ""
    title: str = ""
    currencies: frozenset[str] = frozenset()
    supports_redirect = False
    supports_authorize = False
    supports_refund = False
    supports_partial_refund = False
    supports_recurring = False
    supports_payout = False
    supports_callbacks = False
    supports_listing = False
    payout_destinations: frozenset[str] = frozenset()

    def not_supported(self, operation: Operation, payment_id: str) -> GatewayResult:
        return GatewayResult(
            GatewayStatus.CANCELED,
            operation,
            payment_id,
            error_code=NOT_SUPPORTED,
            error_message=f"{self.title or self.name} does not support {operation.value}",
        )

    async def purchase(self, request: PaymentRequest) -> GatewayResult:
        return self.not_supported(Operation.PURCHASE, request.payment_id)

    async def authorize(self, request: PaymentRequest) -> GatewayResult:
        return self.not_supported(Operation.AUTHORIZE, request.payment_id)

    async def capture(self, payment: PaymentRef, amount: Money) -> GatewayResult:
        return self.not_supported(Operation.CAPTURE, payment.payment_id)

    async def void(self, payment: PaymentRef) -> GatewayResult:
        return self.not_supported(Operation.VOID, payment.payment_id)

    async def refund(self, payment: PaymentRef, amount: Money, refund_id: str) -> GatewayResult:
        return self.not_supported(Operation.REFUND, payment.payment_id)

    async def status(self, payment: PaymentRef) -> GatewayResult:
        return self.not_supported(Operation.STATUS, payment.payment_id)

    async def charge(self, request: PaymentRequest) -> GatewayResult:
        return self.not_supported(Operation.RECURRING, request.payment_id)

    async def payout(self, request: PayoutRequest) -> GatewayResult:
        return self.not_supported(Operation.PAYOUT, request.payout_id)

    async def transactions(self, since: dt.datetime, until: dt.datetime) -> Sequence[GatewayResult]:
        return ()

    def parse_callback(self, callback: CallbackRequest) -> Notification:
        return Notification(False, problem=f"{self.title or self.name} sends no callbacks")

    def acknowledge(self, notification: Notification, accepted: bool) -> CallbackReply:
        if accepted:
            return CallbackReply()
        return CallbackReply(400, b"rejected")
