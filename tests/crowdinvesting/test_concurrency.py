"""Races with real commits: parallel investments never cross the 600,000 RUB limit or a stage's cap, and
parallel redemptions, referral bonuses, income postings and refunds each happen once."""

import asyncio
import uuid

import pytest

from core.ledger import Ledger
from core.projects import Conflict, Invalid, ProjectService, StageStatus
from plugins.crowdinvesting.certificates import CertificateService
from plugins.crowdinvesting.distribution import IncomeService
from plugins.crowdinvesting.investing import InvestmentService
from plugins.crowdinvesting.referrals import ReferralService
from tests.crowdinvesting.helpers import balance, fund, fund_marketing, people, wallet
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


async def outcome(work):
    """What a racing call ended with: its result, or the refusal it met."""
    try:
        return await work
    except (Conflict, Invalid) as refusal:
        return refusal


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


async def test_group_commit_in_place_and_certificates_share_one_yearly_limit(make_platform, committed_db):
    platform = await make_platform(database=committed_db)
    investing = platform.service(InvestmentService)
    certificates = platform.service(CertificateService)
    first, second = await published_project(platform), await published_project(platform)
    for project in (first, second):
        await open_stage(platform, project, target=100_000_000_00)
    investor, buyer = uuid.uuid4(), uuid.uuid4()
    await fund(platform, investor, 2_000_000_00)
    await fund(platform, buyer, 2_000_000_00)
    codes = [(await certificates.buy(buyer, amount_minor=50_000_00))[1] for _ in range(6)]
    # 26 attempts of 50,000 through three paths that all count against one yearly counter: 12 fit.
    results = await asyncio.gather(
        *(attempt(investing, investor, first.id, 50_000_00) for _ in range(10)),
        *(attempt(investing, investor, second.id, 50_000_00, in_place=True) for _ in range(10)),
        *(outcome(certificates.redeem(investor, code, (first if i % 2 else second).slug))
          for i, code in enumerate(codes)))
    invested = sum(r if isinstance(r, int) else getattr(r, "amount_minor", 0) for r in results)
    assert invested == 12 * 50_000_00
    assert (await investing.allowance(investor)).invested_minor == invested
    assert (await platform.service(Ledger).verify()).ok


async def test_a_certificate_redeemed_in_parallel_is_invested_once(make_platform, committed_db):
    platform = await make_platform(database=committed_db)
    certificates = platform.service(CertificateService)
    project = await published_project(platform)
    stage = await open_stage(platform, project, target=100_000_000_00)
    buyer = uuid.uuid4()
    await fund(platform, buyer, 100_000_00)
    certificate, code = await certificates.buy(buyer, amount_minor=10_000_00)
    results = await asyncio.gather(*(outcome(certificates.redeem(uuid.uuid4(), code, project.slug)) for _ in range(5)))
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert await balance(platform, f"certificate:{certificate.id}", "crowdinvesting.certificate") == 0
    assert await balance(platform, f"stage:{stage.id}", "escrow") == 10_000_00


async def test_parallel_first_investments_stay_within_the_referral_cap(make_platform, committed_db):
    platform = await make_platform(database=committed_db, settings={"crowdinvesting": {"referral": {
        "max_rewards_per_year": 2, "referrer_bonus": "500.00"}}})
    investing = platform.service(InvestmentService)
    referrals = platform.service(ReferralService)
    project = await published_project(platform)
    await open_stage(platform, project, target=100_000_000_00)
    await fund_marketing(platform, 100_000_00)
    referrer = uuid.uuid4()
    code = await referrals.code_for(referrer)
    newcomers = people(8)
    for newcomer in newcomers:
        await referrals.claim(newcomer, code)
        await fund(platform, newcomer, 100_000_00)
    # Each newcomer's first investment races their second one and the other newcomers'.
    await asyncio.gather(*(attempt(investing, n, project.id, 10_000_00, in_place=bool(i % 2))
                           for i, n in enumerate(newcomers + newcomers)))
    assert await wallet(platform, referrer) == 2 * 500_00
    assert [r["status"] for r in await referrals.referrals_of(referrer)].count("rewarded") == 2


async def test_parallel_income_postings_and_refunds_each_happen_once(make_platform, committed_db):
    platform = await make_platform(database=committed_db)
    investing = platform.service(InvestmentService)
    income = platform.service(IncomeService)
    projects = platform.service(ProjectService)
    paid, failing = await published_project(platform), await published_project(platform)
    await open_stage(platform, paid, target=30_000_00, cap=30_000_00)
    failed_stage = await open_stage(platform, failing, target=300_000_00)
    investors = people(3)
    for who in investors:
        await fund(platform, who, 20_000_00)
        await investing.invest(who, paid.id, 10_000_00)
        await investing.invest(who, failing.id, 10_000_00)
    await projects.close_collection(failed_stage.id)
    # One period posted four times and three other periods, all at once; four refunds of the failed stage.
    postings = [income.distribute(paid.id, amount_minor=1_000_00, period="2026-Q1") for _ in range(4)]
    postings += [income.distribute(paid.id, amount_minor=1_000_00, period=f"2026-Q{q}") for q in (2, 3, 4)]
    results = await asyncio.gather(*map(outcome, postings), *(outcome(investing.refund_stage(failed_stage.id))
                                                              for _ in range(4)))
    assert [r.created for r in results[:7]].count(True) == 4
    assert sum([await wallet(platform, who) for who in investors]) == 4 * 1_000_00 + 3 * 10_000_00
    assert (await projects.stage(failed_stage.id)).status == StageStatus.REFUNDED
    assert (await platform.service(Ledger).verify()).ok
