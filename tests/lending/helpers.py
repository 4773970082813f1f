"""Money and products for lending tests."""

from __future__ import annotations

import uuid
from typing import Any

from core.ledger import AccountFlags, Ledger, new_transfer_id
from plugins.lending.service import LendingService

PAYDAY = {"code": "payday", "name": "First loan", "audience": "any", "schedule_kind": "single",
          "min_amount": "1000", "max_amount": "15000", "min_term_days": 7, "max_term_days": 30,
          "daily_rate": "0.008", "penalty_annual_rate": "0.2", "extension_days": 30}


async def top_up(platform: Any, user_id: uuid.UUID, amount_minor: int) -> None:
    """What a top-up through payments would do."""
    ledger = platform.service(Ledger)
    source = await ledger.open_account(owner="platform", purpose="test.funding", currency="RUB")
    wallet = await ledger.open_account(owner=f"user:{user_id}", purpose="wallet", currency="RUB",
                                       flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
    result = await ledger.transfer(id=new_transfer_id(), debit_account_id=source.id, credit_account_id=wallet.id,
                                   amount=amount_minor, code="test.topup")
    assert result.accepted, result


async def balance(platform: Any, owner: str, purpose: str) -> int:
    ledger = platform.service(Ledger)
    account = await ledger.find_account(owner=owner, purpose=purpose, currency="RUB")
    return (await ledger.balance(account.id)).posted if account else 0


async def books(platform: Any, user_id: uuid.UUID, loan_id: str | uuid.UUID) -> dict[str, int]:
    """Every balance a loan touches."""
    return {
        "wallet": await balance(platform, f"user:{user_id}", "wallet"),
        "fund": await balance(platform, "platform", "lending.fund"),
        "interest_due": -await balance(platform, f"loan:{loan_id}", "lending.interest"),
        "penalty_due": -await balance(platform, f"loan:{loan_id}", "lending.penalty"),
        "interest_income": await balance(platform, "platform", "lending.interest_income"),
        "penalty_income": await balance(platform, "platform", "lending.penalty_income"),
    }


async def lending_with_fund(platform: Any, fund_minor: int = 100_000_00, product: dict | None = None) -> LendingService:
    service = platform.service(LendingService)
    await service.products.save(dict(product or PAYDAY))
    await service.accounts.add_capital(fund_minor, f"test-{uuid.uuid4()}")
    return service
