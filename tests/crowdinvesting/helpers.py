"""Money and people for crowdinvesting tests: wallets are funded straight from a platform account."""

from __future__ import annotations

import uuid
from typing import Any

from core.ledger import AccountFlags, Ledger, new_transfer_id

FUNDING = "test.funding"


async def fund(platform: Any, user_id: uuid.UUID, amount_minor: int, currency: str = "RUB") -> int:
    """Put ``amount_minor`` on the user's wallet (what a top-up through payments would do)."""
    ledger = platform.service(Ledger)
    source = await ledger.open_account(owner="platform", purpose=FUNDING, currency=currency)
    wallet = await ledger.open_account(owner=f"user:{user_id}", purpose="wallet", currency=currency,
                                       flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
    result = await ledger.transfer(id=new_transfer_id(), debit_account_id=source.id, credit_account_id=wallet.id,
                                   amount=amount_minor, code="test.topup")
    assert result.accepted, result
    return wallet.id


async def balance(platform: Any, owner: str, purpose: str, currency: str = "RUB") -> int:
    ledger = platform.service(Ledger)
    account = await ledger.find_account(owner=owner, purpose=purpose, currency=currency)
    if account is None:
        return 0
    return (await ledger.balance(account.id)).posted


async def wallet(platform: Any, user_id: uuid.UUID) -> int:
    return await balance(platform, f"user:{user_id}", "wallet")


async def fund_marketing(platform: Any, amount_minor: int) -> None:
    ledger = platform.service(Ledger)
    source = await ledger.open_account(owner="platform", purpose=FUNDING, currency="RUB")
    marketing = await ledger.open_account(owner="platform", purpose="crowdinvesting.marketing", currency="RUB",
                                          flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
    result = await ledger.transfer(id=new_transfer_id(), debit_account_id=source.id, credit_account_id=marketing.id,
                                   amount=amount_minor, code="test.marketing")
    assert result.accepted, result


def people(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]
