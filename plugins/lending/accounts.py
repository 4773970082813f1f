"""The ledger accounts lending moves money between, and the ids of its transfers.

* the platform's lending fund (``platform`` / ``lending.fund``, no overdraft): disbursements
  leave it and repaid principal comes back to it; it is topped up from the platform's capital;
* a customer's wallet (``user:<id>`` / ``wallet``): loans arrive there and repayments leave it;
* per loan, what the borrower owes in interest and in penalties (``loan:<id>`` /
  ``lending.interest``, ``lending.penalty``): accrual debits them (the balance goes negative:
  owed), payments credit them back; they may never go above zero, so no one can overpay;
* the platform's interest and penalty income, credited when the charges accrue.

The outstanding principal is the fund's money out on loan: ``fund + Σ outstanding principal``
stays equal to the capital put in plus nothing else; the loan row keeps it per loan.

Every transfer id is derived from the business record (:func:`tid`): a retry, a re-run of
close of day or a crash-and-restart never moves money twice.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from core.ledger import AccountFlags, NewTransfer, transfer_id
from core.ledger.book import NO_OVERDRAFT, AccountBook
from core.projects.errors import Conflict

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.lending.settings import LendingSettings

#: A receivable: debits (what accrued) may exceed credits (what was paid), never the other way.
RECEIVABLE = AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
INTEREST_DUE = "lending.interest"
PENALTY_DUE = "lending.penalty"
INTEREST_INCOME = "lending.interest_income"
PENALTY_INCOME = "lending.penalty_income"


def tid(*parts: object) -> uuid.UUID:
    """A deterministic transfer id in lending's namespace."""
    return transfer_id("lending", *parts)


class LendingAccounts(AccountBook):
    def __init__(self, platform: Platform, settings: LendingSettings) -> None:
        super().__init__(platform, settings.currency)
        self.settings = settings

    async def fund(self) -> int:
        return await self.open("platform", self.settings.fund_purpose, NO_OVERDRAFT)

    async def capital(self) -> int:
        return await self.open("platform", self.settings.capital_purpose, AccountFlags.NONE)

    async def income(self, component: str) -> int:
        purpose = INTEREST_INCOME if component == "interest" else PENALTY_INCOME
        return await self.open("platform", purpose, AccountFlags.NONE)

    async def wallet(self, user_id: uuid.UUID) -> int:
        return await self.open(f"user:{user_id}", self.settings.wallet_purpose, NO_OVERDRAFT)

    async def due(self, loan_id: uuid.UUID, component: str) -> int:
        purpose = INTEREST_DUE if component == "interest" else PENALTY_DUE
        return await self.open(f"loan:{loan_id}", purpose, RECEIVABLE)

    async def balance(self, owner: str, purpose: str) -> int:
        return await self.posted(owner, purpose)

    async def fund_balance(self) -> int:
        return await self.balance("platform", self.settings.fund_purpose)

    async def wallet_balance(self, user_id: uuid.UUID) -> int:
        return await self.balance(f"user:{user_id}", self.settings.wallet_purpose)

    async def submit(self, transfers: list[NewTransfer], *, refusal: dict[str, str] | None = None) -> None:
        """All or nothing; a refusal raises 409 (the caller's transaction rolls back)."""
        await super().submit(transfers, refusal=refusal, error=Conflict)

    async def add_capital(self, amount_minor: int, reference: str) -> None:
        """Put the platform's money into the lending fund (set-up, demo, tests); ``reference`` makes it idempotent."""
        await self.submit([self.transfer(tid("capital", reference), await self.capital(), await self.fund(),
                                         amount_minor, "lending.capital", reference=reference)])
