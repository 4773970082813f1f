"""Investing within minimums, caps and the 259-FZ limit; refunds of failed stages."""

import datetime as dt
import uuid

import pytest

from core.ledger import Ledger
from core.projects import Conflict, Invalid, ProjectService, StageStatus
from plugins.crowdinvesting.investing import InvestmentService
from tests.crowdinvesting.helpers import balance, fund, people, wallet
from tests.projects.helpers import open_stage, published_project

RUB = 100  # kopecks


@pytest.fixture
def investing(platform):
    return platform.service(InvestmentService)


async def test_invest_moves_money_into_the_stage_escrow(platform, investing):
    project = await published_project(platform)
    stage = await open_stage(platform, project, target=300_000 * RUB, cap=400_000 * RUB)
    alice = uuid.uuid4()
    await fund(platform, alice, 150_000 * RUB)
    investment = await investing.invest(alice, project.slug, 100_000 * RUB)
    assert (investment.amount_minor, investment.status, investment.stage_id) == (100_000 * RUB, "active", stage.id)
    assert await wallet(platform, alice) == 50_000 * RUB
    assert await balance(platform, f"stage:{stage.id}", "escrow") == 100_000 * RUB
    stage = await platform.service(ProjectService).stage(stage.id)
    assert (stage.collected_minor, stage.contributions) == (100_000 * RUB, 1)
    ledger = platform.service(Ledger)
    assert (await ledger.get_transfer(investment.transfer_id)).amount == 100_000 * RUB


async def test_refusals_change_nothing(platform, investing):
    project = await published_project(platform)
    stage = await open_stage(platform, project, target=10_000 * RUB, cap=12_000 * RUB)
    bob = uuid.uuid4()
    await fund(platform, bob, 5_000 * RUB)
    with pytest.raises(Invalid, match="minimum investment"):
        await investing.invest(bob, project.id, 999 * RUB)
    with pytest.raises(Conflict, match="balance is"):
        await investing.invest(bob, project.id, 6_000 * RUB)
    rich = uuid.uuid4()
    await fund(platform, rich, 20_000 * RUB)
    with pytest.raises(Conflict, match=r"only RUB12,000\.00 more"):
        await investing.invest(rich, project.id, 12_001 * RUB)
    assert await investing.investments(stage_id=stage.id) == []
    assert (await platform.service(ProjectService).stage(stage.id)).collected_minor == 0
    assert await wallet(platform, bob) == 5_000 * RUB
    allowance = await investing.allowance(bob)
    assert allowance.invested_minor == 0  # the refused attempt left the 259-FZ counter untouched


async def test_the_259fz_limit_binds_non_qualified_investors_only(platform, investing):
    project = await published_project(platform)
    await open_stage(platform, project, target=5_000_000 * RUB)
    carol, dave = people(2)
    for who in (carol, dave):
        await fund(platform, who, 1_000_000 * RUB)
    await investing.invest(carol, project.id, 590_000 * RUB)
    with pytest.raises(Conflict, match=r"10,000\.00 more"):
        await investing.invest(carol, project.id, 10_001 * RUB)
    await investing.invest(carol, project.id, 10_000 * RUB)
    with pytest.raises(Conflict, match="259-FZ"):
        await investing.invest(carol, project.id, 1_000 * RUB)
    # Declared investments through other platforms count too.
    await investing.declare_elsewhere(dave, year=investing.today().year, amount_minor=550_000 * RUB)
    with pytest.raises(Conflict):
        await investing.invest(dave, project.id, 50_001 * RUB)
    await investing.set_qualified(dave, qualified=True)
    await investing.invest(dave, project.id, 800_000 * RUB)
    assert (await investing.allowance(dave)).remaining_minor is None
    # Qualification that lapsed no longer lifts the limit.
    await investing.set_qualified(dave, qualified=True, until=dt.date(2000, 1, 1))
    with pytest.raises(Conflict):
        await investing.invest(dave, project.id, 1_000 * RUB)


async def test_limits_count_per_calendar_year_in_the_platform_time_zone(platform, investing):
    project = await published_project(platform)
    await open_stage(platform, project, target=5_000_000 * RUB, days=400)
    erin = uuid.uuid4()
    await fund(platform, erin, 1_300_000 * RUB)
    # 31 Dec 21:30 UTC is already 1 January in Moscow.
    end_of_year = dt.datetime(dt.date.today().year, 12, 31, 20, 59, tzinfo=dt.UTC)
    new_year = dt.datetime(dt.date.today().year, 12, 31, 21, 30, tzinfo=dt.UTC)
    first = await investing.invest(erin, project.id, 600_000 * RUB, now=end_of_year)
    second = await investing.invest(erin, project.id, 600_000 * RUB, now=new_year)
    assert (first.year, second.year) == (end_of_year.year, end_of_year.year + 1)


async def test_per_investor_cap_and_idempotency(platform, investing):
    project = await published_project(platform)
    stage = await open_stage(platform, project, target=100_000 * RUB)
    await investing.set_terms(project.id, min_investment_minor=1_000 * RUB, max_per_investor_minor=20_000 * RUB,
                              expected_yield_bp=1800, term_months=24, payout_period="quarter")
    frank = uuid.uuid4()
    await fund(platform, frank, 100_000 * RUB)
    first = await investing.invest(frank, project.id, 15_000 * RUB, idempotency_key="req-1")
    again = await investing.invest(frank, project.id, 15_000 * RUB, idempotency_key="req-1")
    assert again.id == first.id
    with pytest.raises(Conflict, match="different investment"):
        await investing.invest(frank, project.id, 16_000 * RUB, idempotency_key="req-1")
    other = await published_project(platform)
    await open_stage(platform, other, target=100_000 * RUB)
    async with platform.db.transaction():  # in place (a caller's transaction), not by the group commit
        assert (await investing.invest(frank, project.slug, 15_000 * RUB, idempotency_key="req-1")).id == first.id
        with pytest.raises(Conflict, match="different investment"):  # the same key for another project
            await investing.invest(frank, other.id, 15_000 * RUB, idempotency_key="req-1")
    with pytest.raises(Conflict, match="at most"):
        await investing.invest(frank, project.id, 5_001 * RUB)
    assert await wallet(platform, frank) == 85_000 * RUB
    assert len(await investing.investments(stage_id=stage.id)) == 1


async def test_reaching_the_cap_funds_the_stage(platform, investing):
    project = await published_project(platform)
    stage = await open_stage(platform, project, target=20_000 * RUB, cap=30_000 * RUB)
    a, b = people(2)
    await fund(platform, a, 30_000 * RUB)
    await fund(platform, b, 30_000 * RUB)
    await investing.invest(a, project.id, 20_000 * RUB)
    assert (await platform.service(ProjectService).stage(stage.id)).status == StageStatus.COLLECTING
    await investing.invest(b, project.id, 10_000 * RUB)
    assert (await platform.service(ProjectService).stage(stage.id)).status == StageStatus.FUNDED
    with pytest.raises(Conflict, match="no stage is collecting"):
        await investing.invest(b, project.id, 1_000 * RUB)


async def test_a_failed_stage_refunds_everyone_exactly(platform, investing):
    projects = platform.service(ProjectService)
    project = await published_project(platform)
    stage = await open_stage(platform, project, target=1_000_000 * RUB)
    investors = people(3)
    amounts = [123_456_78, 7_000_01, 250_000_00]
    for who, amount in zip(investors, amounts, strict=True):
        await fund(platform, who, 300_000 * RUB)
        await investing.invest(who, project.id, amount)
    before = {who: (await investing.allowance(who)).invested_minor for who in investors}
    assert before == dict(zip(investors, amounts, strict=True))
    await projects.close_collection(stage.id)
    assert await investing.refund_stage(stage.id) == 3
    assert await investing.refund_stage(stage.id) == 0  # a second run moves nothing
    for who in investors:
        assert await wallet(platform, who) == 300_000 * RUB
        assert (await investing.allowance(who)).invested_minor == 0
    stage = await projects.stage(stage.id)
    assert (stage.status, stage.refunded_minor, stage.in_escrow_minor) == (StageStatus.REFUNDED, sum(amounts), 0)
    assert await balance(platform, f"stage:{stage.id}", "escrow") == 0
    assert {i.status for i in await investing.investments(stage_id=stage.id)} == {"refunded"}
    assert (await platform.service(Ledger).verify()).ok


async def test_the_failing_stage_hook_queues_the_refund(platform, investing, broker):
    project = await published_project(platform)
    stage = await open_stage(platform, project, target=1_000_000 * RUB)
    who = uuid.uuid4()
    await fund(platform, who, 10_000 * RUB)
    await investing.invest(who, project.id, 10_000 * RUB)
    await platform.service(ProjectService).close_collection(stage.id)
    assert len(broker.kicked("crowdinvesting.refund_stage")) == 1
    await broker.drain()
    assert await wallet(platform, who) == 10_000 * RUB
