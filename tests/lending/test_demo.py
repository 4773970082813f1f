"""The demo data shows a loan, and loading it twice creates nothing new."""

from core.users.service import Users
from plugins.lending.demo import BORROWER, load
from plugins.lending.service import LendingService
from tests.lending.helpers import balance


async def test_demo_data_is_idempotent(platform):
    await load(platform, lambda step: None)
    await load(platform, lambda step: None)
    service = platform.service(LendingService)
    borrower = await platform.service(Users).find(BORROWER)
    loans = await service.loans(user_id=borrower.id)
    assert [(loan["status"], loan["principal_minor"]) for loan in loans] == [("active", 10_000_00)]
    assert {p.code for p in await service.products.all()} == {"first-payday", "repeat-payday", "instalments"}
    assert await balance(platform, f"user:{borrower.id}", "wallet") == 10_000_00
    assert await balance(platform, "platform", "lending.fund") == 990_000_00
