"""Referral bonuses from the platform's own money, on the first investment only, within limits."""

import uuid

import pytest

from core.projects import Conflict, NotFound
from plugins.crowdinvesting.investing import InvestmentService
from plugins.crowdinvesting.referrals import ReferralService
from tests.crowdinvesting.helpers import balance, fund, fund_marketing, wallet
from tests.projects.helpers import open_stage, published_project


@pytest.fixture
async def project(platform):
    project = await published_project(platform)
    await open_stage(platform, project, target=10_000_000_00)
    return project


async def test_bonus_on_the_first_investment(platform, project):
    referrals = platform.service(ReferralService)
    investing = platform.service(InvestmentService)
    referrer, newcomer, stranger = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    code = await referrals.code_for(referrer)
    assert await referrals.code_for(referrer) == code
    with pytest.raises(Conflict, match="yourself"):
        await referrals.claim(referrer, code)
    with pytest.raises(NotFound):
        await referrals.claim(newcomer, "NOSUCHCODE")
    await referrals.claim(newcomer, code.lower())
    await fund_marketing(platform, 10_000_00)
    for who in (newcomer, stranger):
        await fund(platform, who, 100_000_00)
    await investing.invest(newcomer, project.id, 10_000_00)
    assert await wallet(platform, referrer) == 500_00
    [record] = await referrals.referrals_of(referrer)
    assert record["status"] == "rewarded"
    await investing.invest(newcomer, project.id, 10_000_00)
    assert await wallet(platform, referrer) == 500_00  # only the first investment counts
    await investing.invest(stranger, project.id, 5_000_00)
    with pytest.raises(Conflict, match="not invested yet"):
        await referrals.claim(stranger, code)
    assert await balance(platform, "platform", "crowdinvesting.marketing") == 9_500_00


async def test_small_first_investments_and_yearly_cap(make_platform):
    platform = await make_platform(settings={"crowdinvesting": {"referral": {
        "referrer_bonus": "300.00", "referred_bonus": "100.00", "max_rewards_per_year": 1,
        "min_first_investment": "5000.00"}}})
    project = await published_project(platform)
    await open_stage(platform, project, target=10_000_000_00)
    referrals = platform.service(ReferralService)
    investing = platform.service(InvestmentService)
    referrer = uuid.uuid4()
    code = await referrals.code_for(referrer)
    small, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for who in (small, first, second):
        await referrals.claim(who, code)
        await fund(platform, who, 50_000_00)
    await fund_marketing(platform, 10_000_00)
    await investing.invest(small, project.id, 4_999_00)
    await investing.invest(first, project.id, 5_000_00)
    await investing.invest(second, project.id, 5_000_00)
    by_referred = {r["referred_id"]: r for r in await referrals.referrals_of(referrer)}
    assert by_referred[str(small)]["status"] == "ineligible"
    assert by_referred[str(first)]["status"] == "rewarded"
    assert by_referred[str(second)]["status"] == "ineligible" and "reached" in by_referred[str(second)]["reason"]
    assert await wallet(platform, referrer) == 300_00
    assert await wallet(platform, first) == 45_000_00 + 100_00


async def test_unfunded_bonuses_are_paid_later(platform, project):
    referrals = platform.service(ReferralService)
    referrer, newcomer = uuid.uuid4(), uuid.uuid4()
    await referrals.claim(newcomer, await referrals.code_for(referrer))
    await fund(platform, newcomer, 10_000_00)
    await platform.service(InvestmentService).invest(newcomer, project.id, 10_000_00)
    [record] = await referrals.referrals_of(referrer)
    assert record["status"] == "unfunded" and await wallet(platform, referrer) == 0
    assert await referrals.pay_unfunded() == 0
    await fund_marketing(platform, 1_000_00)
    assert await referrals.pay_unfunded() == 1
    assert await referrals.pay_unfunded() == 0
    assert await wallet(platform, referrer) == 500_00


async def test_a_link_followed_before_signing_in_counts_after(platform, client_as, client):
    from plugins.crowdinvesting.routes import REFERRAL_COOKIE

    referrer, newcomer = uuid.uuid4(), uuid.uuid4()
    code = await platform.service(ReferralService).code_for(referrer)
    r = await client.get(f"/crowdinvesting/r/{code}")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert r.cookies.get(REFERRAL_COOKIE) == code
    http = await client_as(user_id=newcomer)
    http.cookies.set(REFERRAL_COOKIE, code)
    assert (await http.get("/crowdinvesting")).status_code == 200
    [record] = await platform.service(ReferralService).referrals_of(referrer)
    assert record["referred_id"] == str(newcomer) and record["status"] == "pending"


async def test_why_a_referral_earned_nothing_is_said_in_the_readers_language(platform, project, client_as):
    referrals = platform.service(ReferralService)
    referrer, newcomer = uuid.uuid4(), uuid.uuid4()
    await referrals.claim(newcomer, await referrals.code_for(referrer))
    await fund(platform, newcomer, 10_000_00)
    await platform.service(InvestmentService).invest(newcomer, project.id, 1_000_00)  # below the program's minimum
    page = await (await client_as(user_id=referrer, locale="ru")).get("/crowdinvesting/referral")
    assert "первая инвестиция была меньше минимума программы" in page.text
