"""Demo data: the KOPIKUPI flat program and three members who saved different amounts.

Members ``coop1..3@example.com`` (password ``DEMO_PASSWORD``) get demo money in their wallets
and contribute to their share. Idempotent: the program is found by code, users by login, money
moves under fixed transfer ids and fixed idempotency keys.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core.ledger import AccountFlags
from plugins.cooperative.accounts import tid
from plugins.cooperative.service import CooperativeService

DEMO_PASSWORD = "cooperative demo 2026"
PROGRAM = {"code": "kopikupi-flat", "name": "KOPIKUPI: a flat without a bank loan", "currency": "RUB",
           "min_target_minor": 1_000_000_00, "max_target_minor": 10_000_000_00, "min_share": Decimal("0.5"),
           "min_membership_days": 90, "reserve_ratio": Decimal("0.1"), "strict_queue": True, "valuation_day": 0,
           "instalment_count": 24, "instalment_days": 30}
#: login, target, what they saved so far.
MEMBERS = [("coop1@example.com", 3_000_000_00, 1_600_000_00), ("coop2@example.com", 2_500_000_00, 900_000_00),
           ("coop3@example.com", 4_000_000_00, 400_000_00)]


async def load(platform: Any, progress: Any) -> None:
    from core.users.service import Users

    service = platform.service(CooperativeService)
    if PROGRAM["code"] not in {p["code"] for p in await service.programs()}:
        await service.create_program(dict(PROGRAM))
        progress(f"cooperative program {PROGRAM['code']}")
    users = platform.service(Users)
    source = await service.accounts.open("platform", "cooperative.demo_funding", AccountFlags.NONE)
    for login, target, saved in MEMBERS:
        user = await users.find(login)
        if user is None:
            user = await users.create(login, DEMO_PASSWORD, display_name="Demo member", locale="ru",
                                      roles=("customer",))
        await service.accounts.submit([service.accounts.transfer(
            tid("demo-topup", login), source, await service.accounts.wallet(user.id), saved, "cooperative.demo")])
        await service.join(PROGRAM["code"], user.id, target)
        await service.contribute(PROGRAM["code"], user.id, saved, idempotency_key="demo-share")
        progress(f"cooperative member {login}")
