"""The ledger accounts of cash terminals.

* ``platform`` / ``terminals.cashbox.<terminal>``: the cash in a terminal's cash box. Every
  stacked note moves money out of it (debit) into a customer's wallet, so its balance is
  minus the cash in the box; a collection brings it back to zero.
* ``platform`` / ``terminals.unclaimed.<terminal>``: notes nobody was identified for (a
  customer walked off mid-session, the device stacked one after a power cut). An admin
  gives them to their owner later; the account cannot go below zero.
* ``platform`` / ``terminals.in_transit``: collected cash on its way to the bank or the cash
  office (negative: the cash we hold); the bank's statement (another plugin) takes it from there.
* ``user:<id>`` / ``wallet``: the customer's balance, the account payments and crowdinvesting use.
"""

from __future__ import annotations

from typing import Any

from core.ledger import Account, AccountFlags, Ledger

WALLET = "wallet"
IN_TRANSIT = "terminals.in_transit"


def cashbox_purpose(terminal_id: str) -> str:
    return f"terminals.cashbox.{terminal_id}"


def unclaimed_purpose(terminal_id: str) -> str:
    return f"terminals.unclaimed.{terminal_id}"


class TerminalAccounts:
    def __init__(self, platform: Any) -> None:
        self.platform = platform

    @property
    def ledger(self) -> Ledger:
        return self.platform.service(Ledger)

    async def cashbox(self, terminal_id: str, currency: str) -> Account:
        return await self.ledger.open_account(owner="platform", purpose=cashbox_purpose(terminal_id), currency=currency)

    async def unclaimed(self, terminal_id: str, currency: str) -> Account:
        return await self.ledger.open_account(owner="platform", purpose=unclaimed_purpose(terminal_id),
                                              currency=currency, flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)

    async def in_transit(self, currency: str) -> Account:
        return await self.ledger.open_account(owner="platform", purpose=IN_TRANSIT, currency=currency)

    async def wallet(self, user_id: Any, currency: str) -> Account:
        return await self.ledger.open_account(owner=f"user:{user_id}", purpose=WALLET, currency=currency,
                                              flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)

    async def cash_in_box(self, terminal_id: str, currency: str) -> int:
        """Minor units the ledger says are in the terminal's cash box."""
        account = await self.ledger.find_account(owner="platform", purpose=cashbox_purpose(terminal_id),
                                                 currency=currency)
        return -account.balance.posted if account else 0

    async def unclaimed_total(self, terminal_id: str, currency: str) -> int:
        account = await self.ledger.find_account(owner="platform", purpose=unclaimed_purpose(terminal_id),
                                                 currency=currency)
        return account.balance.posted if account else 0
