"""A product's book of ledger accounts: open each account once, remember the platform's.

Products (crowdinvesting, lending, the cooperative) move money between a handful of platform
accounts and many per-customer or per-contract ones. :class:`AccountBook` opens them through the
ledger (opening is get-or-create, so it is safe to ask again) and remembers the platform's own
accounts, but only once their opening is surely committed: an id remembered from a transaction
that then rolled back would name no account.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from litestar.exceptions import ClientException

from core.ledger.model import AccountFlags, NewTransfer
from core.ledger.service import Ledger

if TYPE_CHECKING:
    from core.platform import Platform

NO_OVERDRAFT = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
#: Money cannot be taken from an account that lacks it.
NOT_ENOUGH = "exceeds_credits"
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

    async def posted(self, owner: str, purpose: str) -> int:
        """The posted balance of ``owner``'s ``purpose`` account (0 when it was never opened)."""
        account = await self.ledger.find_account(owner=owner, purpose=purpose, currency=self.currency)
        return (await self.ledger.balance(account.id)).posted if account is not None else 0

    def transfer(self, id: uuid.UUID, debit: int, credit: int, amount: int, code: str,
                 value_date: dt.date | None = None, **metadata: Any) -> NewTransfer:
        """A transfer in the book's currency; metadata values are kept as text."""
        return NewTransfer(id=id, debit_account_id=debit, credit_account_id=credit, amount=amount, code=code,
                           currency=self.currency, value_date=value_date,
                           metadata={k: str(v) for k, v in metadata.items()} or None)

    async def submit(self, transfers: list[NewTransfer], *, refusal: Mapping[str, str] | None = None,
                     error: type[ClientException] = ClientException) -> None:
        """Submit ``transfers`` all or nothing.

        A refusal raises ``error`` (409) with the message ``refusal`` gives for the ledger's result
        code (e.g. ``{NOT_ENOUGH: "not enough money in your wallet"}``), so the caller's
        transaction rolls back with a message a customer can read.
        """
        if not transfers:
            return
        results = await self.ledger.submit(transfers, atomic=True)
        failed = [r for r in results if not r.accepted and r.code != "linked_event_failed"]
        if failed:
            code = str(failed[0].code)
            raise error((refusal or {}).get(code) or f"the ledger refused the transfer: {code}", status_code=409)
