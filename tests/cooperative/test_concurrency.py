"""Parallel contributions and valuations with real commits: no money moves twice, one valuation a date."""

import asyncio
import datetime as dt

import pytest

from core.jobs.runtime import Jobs
from core.users.testing import make_user
from plugins.cooperative.programs import program_fields
from plugins.cooperative.service import CooperativeService
from tests.cooperative.helpers import PROGRAM, balance, top_up

pytestmark = pytest.mark.committed


async def test_parallel_retries_and_valuations_move_money_once(make_platform, committed_db):
    platform = await make_platform(database=committed_db)
    start = dt.date(2026, 12, 1)
    calendar = platform.service(Jobs).calendar
    await calendar.set(start)
    service = platform.service(CooperativeService)
    program = await service.create_program(program_fields({**PROGRAM, "code": "race"}, "RUB"))
    user = await make_user(platform)
    await top_up(platform, user.id, 200_000_00)
    await service.join("race", user.id, 150_000_00)
    # Ten contributions of 10 000, each sent twice at once.
    await asyncio.gather(*(service.contribute("race", user.id, 10_000_00, idempotency_key=f"k{n % 10}")
                           for n in range(20)))
    pool = f"coop_program:{program['id']}"
    assert await balance(platform, pool, "cooperative.pool") == 100_000_00
    when = start + dt.timedelta(days=40)
    results = await asyncio.gather(*(service.valuate("race", when) for _ in range(4)))
    assert sum(new for _v, new in results) == 1
    assert len({v["id"] for v, _new in results}) == 1
    # 100 000 saved, reserve 10 000: 90 000 available, less than the 150 000 target — nothing allotted.
    assert await balance(platform, pool, "cooperative.pool") == 100_000_00
    assert (await service.membership("race", user.id))["status"] == "saving"
