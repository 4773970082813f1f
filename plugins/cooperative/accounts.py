"""The ledger accounts of the cooperative and the ids of its transfers.

* a member's wallet (``user:<id>`` / ``wallet``, no overdraft): shares and repayments leave it;
* a program's pool (``coop_program:<id>`` / ``cooperative.pool``, no overdraft): shares and
  repayments come in, purchases go out, so the pool can never pay out money it does not hold;
* the purchases account (``platform`` / ``cooperative.purchases``): what the pool paid to sellers.

Transfer ids are derived from the business record (the movement's id, which follows from the member
and the caller's idempotency key; the member for a purchase): a retry never moves money twice.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from core.ledger import AccountFlags, Ledger, NewTransfer, transfer_id
from core.projects.errors import Conflict

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.cooperative.settings import CooperativeSettings

NO_OVERDRAFT = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS


def tid(*parts: object) -> uuid.UUID:
    return transfer_id("cooperative", *parts)


class CooperativeAccounts:
    def __init__(self, platform: Platform, settings: CooperativeSettings) -> None:
        self.platform = platform
        self.settings = settings

    @property
    def ledger(self) -> Ledger:
        return self.platform.service(Ledger)

    async def _open(self, owner: str, purpose: str, flags: AccountFlags) -> int:
        account = await self.ledger.open_account(owner=owner, purpose=purpose, currency=self.settings.currency,
                                                 flags=flags)
        return account.id

    async def wallet(self, user_id: uuid.UUID) -> int:
        return await self._open(f"user:{user_id}", self.settings.wallet_purpose, NO_OVERDRAFT)

    async def pool(self, program_id: uuid.UUID) -> int:
        return await self._open(f"coop_program:{program_id}", self.settings.pool_purpose, NO_OVERDRAFT)

    async def purchases(self) -> int:
        return await self._open("platform", self.settings.purchases_purpose, AccountFlags.NONE)

    async def balance(self, owner: str, purpose: str) -> int:
        account = await self.ledger.find_account(owner=owner, purpose=purpose, currency=self.settings.currency)
        if account is None:
            return 0
        return (await self.ledger.balance(account.id)).posted

    async def pool_balance(self, program_id: uuid.UUID) -> int:
        return await self.balance(f"coop_program:{program_id}", self.settings.pool_purpose)

    async def wallet_balance(self, user_id: uuid.UUID) -> int:
        return await self.balance(f"user:{user_id}", self.settings.wallet_purpose)

    def transfer(self, id: uuid.UUID, debit: int, credit: int, amount: int, code: str, **metadata: Any) -> NewTransfer:
        return NewTransfer(id=id, debit_account_id=debit, credit_account_id=credit, amount=amount, code=code,
                           currency=self.settings.currency, metadata={k: str(v) for k, v in metadata.items()} or None)

    async def submit(self, transfers: list[NewTransfer], *,
                     short: str = "not enough money in the wallet: top it up first") -> None:
        """All or nothing; a refusal raises 409 (``short`` when the paying account lacks the money)
        and the caller's transaction rolls back."""
        results = await self.ledger.submit(transfers, atomic=True)
        failed = [r for r in results if not r.accepted and r.code != "linked_event_failed"]
        if failed:
            code = failed[0].code
            if code == "exceeds_credits":
                raise Conflict(short)
            raise Conflict(f"the ledger refused the transfer: {code}")
