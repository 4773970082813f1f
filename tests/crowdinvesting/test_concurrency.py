"""Parallel investments at the 600,000 RUB limit and at a stage's cap, with real commits: neither is exceeded."""

import asyncio
import uuid

import pytest

from core.projects import Conflict, ProjectService, StageStatus
from plugins.crowdinvesting.investing import InvestmentService
from tests.crowdinvesting.helpers import balance, fund, people, wallet
from tests.projects.helpers import open_stage, published_project

pytestmark = pytest.mark.committed


async def attempt(investing, who, project_id, amount, in_place=False):
    try:
        if in_place:  # inside a caller's transaction: no group commit, the guarded upserts alone
            async with investing.db.transaction():
                await investing.invest(who, project_id, amount)
        else:
            await investing.invest(who, project_id, amount)
        return amount
    except Conflict:
        return 0


@pytest.mark.parametrize("in_place", [False, True], ids=["group-commit", "in-place"])
async def test_parallel_attempts_never_cross_the_yearly_limit(make_platform, committed_db, in_place):
    platform = await make_platform(database=committed_db)
    investing = platform.service(InvestmentService)
    project = await published_project(platform)
    await open_stage(platform, project, target=100_000_000_00)
    investor = uuid.uuid4()
    await fund(platform, investor, 2_000_000_00)
    # 40 attempts of 49,999.99: twelve fit under 600,000 (599,999.88), the thirteenth would not.
    amounts = await asyncio.gather(*(attempt(investing, investor, project.id, 49_999_99, in_place)
                                     for _ in range(40)))
    assert sum(amounts) == 12 * 49_999_99
    assert (await investing.allowance(investor)).invested_minor == 12 * 49_999_99
    assert await wallet(platform, investor) == 2_000_000_00 - 12 * 49_999_99
    invested = sum(i.amount_minor for i in await investing.investments(user_id=investor))
    assert invested == 12 * 49_999_99 <= 600_000_00


@pytest.mark.parametrize("in_place", [False, True], ids=["group-commit", "in-place"])
async def test_parallel_investors_never_overfill_a_stage(make_platform, committed_db, in_place):
    platform = await make_platform(database=committed_db)
    investing = platform.service(InvestmentService)
    projects = platform.service(ProjectService)
    project = await published_project(platform)
    stage = await open_stage(platform, project, target=800_000_00, cap=1_000_000_00)
    investors = people(30)
    for who in investors:
        await fund(platform, who, 100_000_00)
    amounts = await asyncio.gather(*(attempt(investing, who, project.id, 50_000_00, in_place) for who in investors))
    assert sum(amounts) == 1_000_000_00 and amounts.count(50_000_00) == 20
    stage = await projects.stage(stage.id)
    assert (stage.collected_minor, stage.contributions, stage.status) == (1_000_000_00, 20, StageStatus.FUNDED)
    assert await balance(platform, f"stage:{stage.id}", "escrow") == 1_000_000_00
    refused = [who for who, amount in zip(investors, amounts, strict=True) if amount == 0]
    assert all([await wallet(platform, who) == 100_000_00 for who in refused])
