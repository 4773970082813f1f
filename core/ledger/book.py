"""A product's book of ledger accounts: open each account once, remember the platform's.

Products (crowdinvesting, lending, the cooperative) move money between a handful of platform
accounts and many per-customer or per-contract ones. :class:`AccountBook` opens them through the
ledger (opening is get-or-create, so it is safe to ask again) and remembers the platform's own
accounts, but only once their opening is surely committed: an id remembered from a transaction
that then rolled back would name no account.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.ledger.model import AccountFlags
from core.ledger.service import Ledger

if TYPE_CHECKING:
    from core.platform import Platform

NO_OVERDRAFT = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
PLATFORM = "platform"


class AccountBook:
    """Subclass it with the accounts your product uses (``async def fund(self) -> int`` …)."""

    def __init__(self, platform: Platform, currency: str) -> None:
        self.platform = platform
        self.currency = currency
        self._ids: dict[tuple[str, str], int] = {}

    @property
    def ledger(self) -> Ledger:
        return self.platform.service(Ledger)

    async def open(self, owner: str, purpose: str, flags: AccountFlags = NO_OVERDRAFT) -> int:
        """The id of ``owner``'s account for ``purpose`` in the book's currency, opened if need be."""
        key = (owner, purpose)
        if key in self._ids:
            return self._ids[key]
        account = await self.ledger.open_account(owner=owner, purpose=purpose, currency=self.currency, flags=flags)
        if owner == PLATFORM and not self.platform.db.in_transaction:
            self._ids[key] = account.id
        return account.id
