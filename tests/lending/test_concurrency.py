"""Parallel payments and signatures with real commits: nothing is paid twice, no one borrows twice."""

import asyncio

import pytest

from core.projects.errors import Conflict, Invalid
from core.users.testing import make_user
from tests.lending.helpers import books, lending_with_fund, top_up

pytestmark = pytest.mark.committed


async def attempt(coro):
    try:
        await coro
        return True
    except (Conflict, Invalid):
        return False


async def test_parallel_repayments_never_pay_more_than_owed(make_platform, committed_db):
    platform = await make_platform(database=committed_db)
    service = await lending_with_fund(platform)
    user = await make_user(platform)
    loan = await service._disburse((await service.apply(user.id, 10_000_00, 10))["id"])
    await top_up(platform, user.id, 50_000_00)
    # Twelve payments of 1 000 against 10 000 owed (ten fit), and each sent twice (retries).
    results = await asyncio.gather(*(attempt(service.repay(loan["id"], user.id, 1_000_00, idempotency_key=f"k{n % 12}"))
                                     for n in range(24)))
    payments = await service.payments(loan["id"])
    assert len(payments) == 10 and sum(p["amount_minor"] for p in payments) == 10_000_00
    assert sum(results) >= 10
    assert (await service.loan(loan["id"]))["status"] == "repaid"
    assert (await books(platform, user.id, loan["id"]))["wallet"] == 60_000_00 - 10_000_00


async def test_two_approved_applications_give_one_loan(make_platform, committed_db):
    platform = await make_platform(database=committed_db)
    service = await lending_with_fund(platform)
    user = await make_user(platform)
    first = await service.apply(user.id, 5_000_00, 10, idempotency_key="a")
    second = await service.apply(user.id, 6_000_00, 10, idempotency_key="b")
    assert first["status"] == second["status"] == "approved"
    signed = await asyncio.gather(attempt(service._disburse(first["id"])), attempt(service._disburse(second["id"])))
    assert sorted(signed) == [False, True]
    assert len(await service.loans(user_id=user.id)) == 1
