"""Every movement of money the payments plugin makes, as ledger transfers.

Accounts (``core.ledger``):

* ``user:<id>`` / ``wallet``: the customer's balance (may not go below zero);
* ``platform`` / ``payments.gateway.<name>.<shard>``: money on its way through a provider
  (spread over :data:`GATEWAY_SHARDS` accounts so pay-ins do not queue on one row). It
  goes negative as customers pay in (the provider owes it to us) and back up as the
  provider settles;
* ``platform`` / ``payments.payouts.<name>``: money held for, then sent in, payouts.

Transfer ids come from the payment's id and what the transfer does
(``transfer_id("payments", "credit", payment_id)``), so a replayed callback, a retried
request or a re-run job finds the transfer already there (``exists``) and moves nothing.
Called inside the caller's database transaction, each transfer commits with the
status change that caused it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.ledger import AccountFlags, Ledger, transfer_id

if TYPE_CHECKING:
    from core.ledger import Account, TransferResult
    from core.money import Money
    from core.platform import Platform
    from plugins.payments.records import PaymentRecord

WALLET = "wallet"


class PostingRefused(Exception):
    """The ledger refused a transfer the payment needed (the detail says why)."""

    def __init__(self, result: TransferResult) -> None:
        self.result = result
        super().__init__(f"ledger refused {result.id}: {result.code.value} {result.detail}".strip())


#: Money in transit through one gateway is spread over this many platform accounts: every
#: pay-in locks its account until its transaction commits, and one account for all of them
#: would make pay-ins wait for each other (the ledger's "hot account"). Their sum is the
#: gateway's balance. Fixed: changing it moves where future postings of a payment go.
GATEWAY_SHARDS = 8


def gateway_purpose(gateway: str, payment_id: Any = None) -> str:
    """``payments.gateway.<name>.<shard>``; the shard follows from the payment's id."""
    shard = int(str(payment_id).replace("-", "")[-4:], 16) % GATEWAY_SHARDS if payment_id is not None else 0
    return f"payments.gateway.{gateway}.{shard}"


def payout_purpose(gateway: str) -> str:
    return f"payments.payouts.{gateway}"


class Postings:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        #: Ids of accounts known to be committed (an account opened in a transaction that
        #: rolled back must not be remembered), so the busy path opens nothing.
        self._known: dict[tuple[str, str, str], Account] = {}

    async def _account(self, owner: str, purpose: str, currency: str, **options: Any) -> Account:
        key = (owner, purpose, currency)
        known = self._known.get(key)
        if known is not None:
            return known
        account = await self.ledger.open_account(owner=owner, purpose=purpose, currency=currency, **options)
        db = self.platform.db
        assert db is not None

        async def remember() -> None:
            self._known[key] = account

        db.after_commit(remember)
        return account

    @property
    def ledger(self) -> Ledger:
        return self.platform.service(Ledger)

    # -- accounts ---------------------------------------------------------------------------------

    async def wallet(self, user_id: Any, currency: str) -> Account:
        # Not remembered: one per customer, and there are many customers.
        return await self.ledger.open_account(owner=f"user:{user_id}", purpose=WALLET, currency=currency,
                                              flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)

    async def find_wallet(self, user_id: Any, currency: str) -> Account | None:
        return await self.ledger.find_account(owner=f"user:{user_id}", purpose=WALLET, currency=currency)

    async def gateway_account(self, gateway: str, currency: str, payment_id: Any) -> Account:
        return await self._account("platform", gateway_purpose(gateway, payment_id), currency)

    async def payout_account(self, gateway: str, currency: str) -> Account:
        return await self._account("platform", payout_purpose(gateway), currency)

    async def available(self, user_id: Any, currency: str) -> int:
        """What the customer can spend or withdraw now (held money excluded)."""
        account = await self.find_wallet(user_id, currency)
        return account.balance.available if account else 0

    # -- pay-ins ----------------------------------------------------------------------------------------

    @staticmethod
    def credit_id(payment: PaymentRecord) -> Any:
        return transfer_id("payments", "credit", payment.id)

    async def credit(self, payment: PaymentRecord) -> TransferResult:
        """The provider took the customer's money: it is now on their balance."""
        source = await self.gateway_account(payment.gateway, payment.amount.currency, payment.id)
        wallet = await self.wallet(payment.user_id, payment.amount.currency)
        result = await self.ledger.transfer(
            id=self.credit_id(payment), debit_account_id=source.id, credit_account_id=wallet.id,
            amount=payment.amount.minor, currency=payment.amount.currency, code=f"payments.{payment.kind.value}",
            metadata={"payment_id": str(payment.id), "gateway": payment.gateway},
        )
        return _accepted(result)

    # -- payouts ------------------------------------------------------------------------------------------

    @staticmethod
    def hold_id(payment: PaymentRecord) -> Any:
        return transfer_id("payments", "withdrawal-hold", payment.id)

    async def hold(self, payment: PaymentRecord) -> TransferResult:
        """Set the withdrawal's amount aside; refused (not raised) when the balance is short."""
        wallet = await self.wallet(payment.user_id, payment.amount.currency)
        payouts = await self.payout_account(payment.gateway, payment.amount.currency)
        return await self.ledger.transfer(
            id=self.hold_id(payment), debit_account_id=wallet.id, credit_account_id=payouts.id,
            amount=payment.amount.minor, currency=payment.amount.currency, pending=True, code="payments.withdrawal",
            metadata={"payment_id": str(payment.id), "gateway": payment.gateway},
        )

    async def settle_hold(self, payment: PaymentRecord) -> TransferResult:
        """The payout went out: the held money leaves the balance for good."""
        result = await self.ledger.post_pending(id=transfer_id("payments", "withdrawal-post", payment.id),
                                                pending_id=self.hold_id(payment))
        return _accepted(result)

    async def release_hold(self, payment: PaymentRecord) -> TransferResult:
        """The payout did not happen: the held money is the customer's to use again."""
        result = await self.ledger.void_pending(id=transfer_id("payments", "withdrawal-void", payment.id),
                                                pending_id=self.hold_id(payment))
        return _accepted(result)

    # -- refunds ------------------------------------------------------------------------------------------

    @staticmethod
    def refund_hold_id(refund_id: str) -> Any:
        return transfer_id("payments", "refund-hold", refund_id)

    async def hold_refund(self, payment: PaymentRecord, refund_id: str, amount: Money) -> TransferResult:
        """Take the refund out of the customer's balance while the provider gives it back."""
        wallet = await self.wallet(payment.user_id, amount.currency)
        source = await self.gateway_account(payment.gateway, amount.currency, payment.id)
        return await self.ledger.transfer(
            id=self.refund_hold_id(refund_id), debit_account_id=wallet.id, credit_account_id=source.id,
            amount=amount.minor, currency=amount.currency, pending=True, code="payments.refund",
            metadata={"payment_id": str(payment.id), "refund_id": refund_id},
        )

    async def settle_refund(self, refund_id: str) -> TransferResult:
        return _accepted(await self.ledger.post_pending(id=transfer_id("payments", "refund-post", refund_id),
                                                        pending_id=self.refund_hold_id(refund_id)))

    async def release_refund(self, refund_id: str) -> TransferResult:
        return _accepted(await self.ledger.void_pending(id=transfer_id("payments", "refund-void", refund_id),
                                                        pending_id=self.refund_hold_id(refund_id)))

    # -- reading --------------------------------------------------------------------------------------------

    async def credited(self, payment: PaymentRecord) -> int:
        """How much the ledger credited for ``payment`` (0 if nothing)."""
        transfer = await self.ledger.get_transfer(self.credit_id(payment))
        return transfer.amount if transfer else 0

    async def paid_out(self, payment: PaymentRecord) -> int:
        transfer = await self.ledger.get_transfer(transfer_id("payments", "withdrawal-post", payment.id))
        return transfer.amount if transfer else 0


def _accepted(result: TransferResult) -> TransferResult:
    if not result.accepted:
        raise PostingRefused(result)
    return result
