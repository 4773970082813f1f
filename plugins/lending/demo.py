"""Demo data: three loan products, a funded lending fund, and a borrower with a loan.

* "first-payday": the first loan, 1 000–15 000 ₽ for 7–30 days at 0.8 % a day, extendable by 30 days;
* "repeat-payday": for returning customers, up to 30 000 ₽ at 0.6 % a day;
* "instalments": 10 000–50 000 ₽ for 8–24 weeks in equal fortnightly instalments at 0.25 % a day.

The borrower (``borrower@example.com`` / ``BORROWER_PASSWORD``) has a signed 10 000 ₽ loan for
30 days. Idempotent: products are found by code, money moves under fixed transfer ids, the
application has a fixed idempotency key.
"""

from __future__ import annotations

from typing import Any

from plugins.lending.service import LendingService

BORROWER = "borrower@example.com"
BORROWER_PASSWORD = "tiny loan demo 2026"
PRODUCTS = [
    {"code": "first-payday", "name": "First loan", "audience": "first", "schedule_kind": "single",
     "min_amount": "1000", "max_amount": "15000", "min_term_days": 7, "max_term_days": 30,
     "daily_rate": "0.008", "penalty_annual_rate": "0.2", "extension_days": 30},
    {"code": "repeat-payday", "name": "Loan for returning customers", "audience": "repeat",
     "schedule_kind": "single", "min_amount": "1000", "max_amount": "30000", "min_term_days": 7,
     "max_term_days": 30, "daily_rate": "0.006", "penalty_annual_rate": "0.2", "extension_days": 30},
    {"code": "instalments", "name": "Instalment loan", "audience": "any", "schedule_kind": "annuity",
     "min_amount": "10000", "max_amount": "50000", "min_term_days": 56, "max_term_days": 168,
     "period_days": 14, "daily_rate": "0.0025", "penalty_annual_rate": "0.2"},
]


async def load(platform: Any, progress: Any) -> None:
    from core.users.service import Users

    service = platform.service(LendingService)
    existing = {p.code for p in await service.products.all()}
    for fields in PRODUCTS:
        if fields["code"] not in existing:
            await service.products.save(dict(fields))
            progress(f"loan product {fields['code']}")
    await service.accounts.add_capital(1_000_000_00, "demo")
    users = platform.service(Users)
    borrower = await users.find(BORROWER)
    if borrower is None:
        borrower = await users.create(BORROWER, BORROWER_PASSWORD, display_name="Demo borrower", locale="ru",
                                      roles=("customer",))
    application = await service.apply(borrower.id, 10_000_00, 30, product_code="first-payday",
                                      idempotency_key="demo-loan")
    if application["status"] == "approved":
        # The demo signs on the borrower's behalf: no one is there to read the code.
        await service._disburse(application["id"])
        progress("a signed 10 000 ₽ loan for borrower@example.com")
