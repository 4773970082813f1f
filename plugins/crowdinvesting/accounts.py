"""The ledger accounts crowdinvesting moves money between, and the ids of its transfers.

* a customer's wallet (``user:<id>``, the payments plugin's purpose, default ``wallet``);
* a stage's escrow (``stage:<id>``, opened by core.projects);
* a gift certificate's own account (``certificate:<id>``) holding its amount until redeemed;
* a project's income account (``project:<id>``), through which posted income is paid out;
* the platform's account for income received from projects' businesses (no limit: it stands for
  money that came in from outside) and its marketing account, which pays referral bonuses from
  the operator's own funds and may never go below zero.

Every transfer id is derived from the business record it belongs to (:func:`tid`), so a retry,
a re-run or a crash-and-restart can never move money twice.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from core.ledger import AccountFlags, transfer_id
from core.ledger.book import AccountBook

if TYPE_CHECKING:
    from core.platform import Platform
    from plugins.crowdinvesting.settings import CrowdinvestingSettings

CERTIFICATE = "crowdinvesting.certificate"
PROJECT_INCOME = "crowdinvesting.income"


def tid(*parts: object) -> uuid.UUID:
    """A deterministic transfer id in crowdinvesting's namespace."""
    return transfer_id("crowdinvesting", *parts)


class CrowdAccounts(AccountBook):
    def __init__(self, platform: Platform, settings: CrowdinvestingSettings) -> None:
        super().__init__(platform, settings.currency)
        self.settings = settings

    async def wallet(self, user_id: uuid.UUID) -> int:
        return await self.open(f"user:{user_id}", self.settings.wallet_purpose)

    async def certificate(self, certificate_id: uuid.UUID) -> int:
        return await self.open(f"certificate:{certificate_id}", CERTIFICATE)

    async def project_income(self, project_id: uuid.UUID) -> int:
        return await self.open(f"project:{project_id}", PROJECT_INCOME)

    async def income_source(self) -> int:
        return await self.open("platform", self.settings.income_source_purpose, AccountFlags.NONE)

    async def marketing(self) -> int:
        return await self.open("platform", self.settings.marketing_purpose)

    async def balance(self, account_id: int) -> int:
        balance = await self.ledger.balance(account_id)
        return balance.available if balance else 0

    async def wallet_balance(self, user_id: uuid.UUID) -> int:
        account = await self.ledger.find_account(owner=f"user:{user_id}", purpose=self.settings.wallet_purpose,
                                                 currency=self.currency)
        return await self.balance(account.id) if account else 0

    async def move(self, transfer: uuid.UUID, debit: int, credit: int, amount: int, code: str,
                   **metadata: Any) -> Any:
        """One transfer; the result says whether it is in the ledger (``accepted``) and why not."""
        return await self.ledger.transfer(id=transfer, debit_account_id=debit, credit_account_id=credit,
                                          amount=amount, code=code, currency=self.currency,
                                          metadata={k: str(v) for k, v in metadata.items()} or None)
