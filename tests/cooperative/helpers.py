"""Money and a program for cooperative tests."""

from __future__ import annotations

import uuid
from typing import Any

from core.ledger import AccountFlags, Ledger, transfer_id

PROGRAM = {"code": "flat", "name": "A flat", "min_target": "100000", "max_target": "1000000", "min_share": "0.5",
           "min_membership_days": 30, "reserve_ratio": "0.1", "strict_queue": True, "instalment_count": 4,
           "instalment_days": 30}


async def top_up(platform: Any, user_id: uuid.UUID, amount_minor: int) -> None:
    """What a top-up through payments would do."""
    ledger = platform.service(Ledger)
    source = await ledger.open_account(owner="platform", purpose="test.funding", currency="RUB")
    wallet = await ledger.open_account(owner=f"user:{user_id}", purpose="wallet", currency="RUB",
                                       flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
    result = await ledger.transfer(id=transfer_id("test", "topup", user_id), debit_account_id=source.id,
                                   credit_account_id=wallet.id, amount=amount_minor, code="test.topup")
    assert result.accepted, result


async def balance(platform: Any, owner: str, purpose: str) -> int:
    ledger = platform.service(Ledger)
    account = await ledger.find_account(owner=owner, purpose=purpose, currency="RUB")
    return (await ledger.balance(account.id)).posted if account else 0
