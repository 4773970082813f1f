"""The ledger side of staged projects: a stage's escrow account and the releases out of it.

Each stage has its own escrow account (owner ``stage:<id>``) holding what was collected for
it; it may never go below zero. Approved spending moves money from there to the project's
implementation account (owner ``project:<id>``) with a transfer whose id comes from the
spending entry, so approving twice can never release twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from core.projects.errors import Conflict

if TYPE_CHECKING:
    from core.platform import Platform
    from core.projects.models import SpendingEntry, Stage

ESCROW = "escrow"
IMPLEMENTATION = "implementation"


class StageAccounts:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._cache: dict[tuple[str, str, str], Any] = {}

    @property
    def ledger(self) -> Any:
        from core.ledger import Ledger  # the ledger is a sibling core plugin; import when money moves

        return self.platform.service(Ledger)

    async def _account(self, owner: str, purpose: str, currency: str) -> Any:
        key = (owner, purpose, currency)
        account = self._cache.get(key)
        if account is None:
            # Idempotent on owner + purpose + currency: every process may open it.
            from core.ledger import AccountFlags

            account = await self.ledger.open_account(
                owner=owner, purpose=purpose, currency=currency, flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
            )
            self._cache[key] = account
        return account

    async def escrow(self, stage: Stage) -> Any:
        return await self._account(stage.owner, ESCROW, stage.currency)

    async def implementation(self, project_id: UUID, currency: str) -> Any:
        return await self._account(f"project:{project_id}", IMPLEMENTATION, currency)

    async def escrow_balance(self, stage: Stage) -> int:
        balance = await self.ledger.balance((await self.escrow(stage)).id)
        return balance.posted if balance else 0

    async def release(self, stage: Stage, entry: SpendingEntry) -> UUID:
        """Move an approved entry's amount from the stage's escrow to the implementation account."""
        escrow = await self.escrow(stage)
        target = await self.implementation(stage.project_id, stage.currency)
        from core.ledger import transfer_id

        tid = transfer_id("projects.release", entry.id)
        result = await self.ledger.transfer(
            id=tid, debit_account_id=escrow.id, credit_account_id=target.id, amount=entry.amount_minor,
            code="projects.release", currency=stage.currency,
            metadata={"stage_id": str(stage.id), "spending_id": str(entry.id)},
        )
        if not result.accepted:
            raise Conflict(f"the stage's escrow cannot release {entry.amount_minor} (ledger: {result.code})")
        return tid
