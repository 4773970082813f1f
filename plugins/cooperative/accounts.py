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
from typing import TYPE_CHECKING

from core.ledger import AccountFlags, NewTransfer, transfer_id
from core.ledger.book import NO_OVERDRAFT, NOT_ENOUGH, AccountBook
from core.projects.errors import Conflict

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.cooperative.settings import CooperativeSettings


def tid(*parts: object) -> uuid.UUID:
    return transfer_id("cooperative", *parts)


class CooperativeAccounts(AccountBook):
    def __init__(self, platform: Platform, settings: CooperativeSettings) -> None:
        super().__init__(platform, settings.currency)
        self.settings = settings

    async def wallet(self, user_id: uuid.UUID) -> int:
        return await self.open(f"user:{user_id}", self.settings.wallet_purpose, NO_OVERDRAFT)

    async def pool(self, program_id: uuid.UUID) -> int:
        return await self.open(f"coop_program:{program_id}", self.settings.pool_purpose, NO_OVERDRAFT)

    async def purchases(self) -> int:
        return await self.open("platform", self.settings.purchases_purpose, AccountFlags.NONE)

    async def balance(self, owner: str, purpose: str) -> int:
        return await self.posted(owner, purpose)

    async def pool_balance(self, program_id: uuid.UUID) -> int:
        return await self.balance(f"coop_program:{program_id}", self.settings.pool_purpose)

    async def wallet_balance(self, user_id: uuid.UUID) -> int:
        return await self.balance(f"user:{user_id}", self.settings.wallet_purpose)

    async def submit(self, transfers: list[NewTransfer], *,  # type: ignore[override]
                     short: str = "not enough money in the wallet: top it up first") -> None:
        """All or nothing; a refusal raises 409 (``short`` when the paying account lacks the money)
        and the caller's transaction rolls back."""
        await super().submit(transfers, refusal={NOT_ENOUGH: short}, error=Conflict)
