"""Income distribution: exact to the kopeck, deterministic, and never twice."""

import dataclasses
import uuid
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.ledger import Ledger
from core.projects import Conflict, ProjectService
from plugins.crowdinvesting.accounts import tid
from plugins.crowdinvesting.distribution import Holding, IncomeService, payout_ids, split
from plugins.crowdinvesting.investing import InvestmentService
from tests.crowdinvesting.helpers import fund, people, wallet
from tests.projects.helpers import open_stage, published_project

contributions = st.lists(st.integers(min_value=1, max_value=60_000_000), min_size=1, max_size=200)
incomes = st.integers(min_value=1, max_value=10**13)


def holdings_of(amounts):
    return [Holding(uuid.UUID(int=i + 1), a, i) for i, a in enumerate(amounts)]


@settings(max_examples=300, deadline=None)
@given(amounts=contributions, income=incomes)
def test_every_distribution_is_exact(amounts, income):
    holdings = holdings_of(amounts)
    payouts = split(income, holdings)
    total = sum(amounts)
    assert sum(payouts) == income
    assert all(p >= 0 for p in payouts)
    for amount, paid in zip(amounts, payouts, strict=True):
        exact = Fraction(income * amount, total)
        assert abs(paid - exact) < 1  # each is its exact share rounded down or up, never further
    # Largest remainder: whoever got the extra kopeck had a remainder at least as large as anyone who did not.
    remainders = [Fraction(income * a, total) - (income * a // total) for a in amounts]
    bumped = [r for r, a, p in zip(remainders, amounts, payouts, strict=True) if p > income * a // total]
    kept = [r for r, a, p in zip(remainders, amounts, payouts, strict=True) if p == income * a // total]
    if bumped and kept:
        assert min(bumped) >= max(kept)


@settings(max_examples=100, deadline=None)
@given(amounts=contributions, income=incomes)
def test_the_split_is_deterministic_and_ties_go_to_the_earlier_investor(amounts, income):
    holdings = holdings_of(amounts)
    assert split(income, holdings) == split(income, list(holdings))
    equal = split(income, holdings_of([7] * len(amounts)))
    assert equal == sorted(equal, reverse=True)  # equal stakes: the leftover kopecks go in order


@settings(max_examples=50, deadline=None)
@given(payouts=st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=20))
def test_payout_ids_are_the_ids_tid_derives(payouts):
    distribution = uuid.uuid4()
    holdings = holdings_of([1] * len(payouts))
    assert payout_ids(distribution, holdings, payouts) == [
        tid("income", distribution, h.user_id) if p else None for h, p in zip(holdings, payouts, strict=True)]


async def three_investors_funded(platform):
    investing = platform.service(InvestmentService)
    project = await published_project(platform)
    stage = await open_stage(platform, project, target=60_000_00, cap=60_000_00)
    investors = people(3)
    for who, amount in zip(investors, (10_000_00, 20_000_00, 30_000_00), strict=True):
        await fund(platform, who, amount)
        await investing.invest(who, project.id, amount)
    assert (await platform.service(ProjectService).stage(stage.id)).status == "funded"
    return project, stage, investors


async def test_posting_income_pays_investors_pro_rata_once(platform):
    income = platform.service(IncomeService)
    project, stage, (a, b, c) = await three_investors_funded(platform)
    first = await income.distribute(project.id, amount_minor=1_000_00, period="2026-Q4", note="rent")
    assert first.created and (first.investors, first.base_minor) == (3, 60_000_00)
    paid = {who: await wallet(platform, who) for who in (a, b, c)}
    # 1000.00 over 1:2:3 is 166.666..., 333.333..., 500.00: the leftover kopeck goes to the largest remainder.
    assert paid == {a: 166_67, b: 333_33, c: 500_00}
    again = await income.distribute(project.id, amount_minor=1_000_00, period="2026-Q4")
    assert not again.created and again.id == first.id
    assert {who: await wallet(platform, who) for who in (a, b, c)} == paid
    with pytest.raises(Conflict, match="different amount"):
        await income.distribute(project.id, amount_minor=999_00, period="2026-Q4")
    payouts = await income.payouts(first.id)
    assert sum(p["amount_minor"] for p in payouts) == 1_000_00
    assert (await income.income_of(b)) == {project.id: 333_33}
    stage_only = await income.distribute(project.id, amount_minor=1, period="2026-Q4", stage_id=stage.id)
    assert stage_only.created and stage_only.id != first.id
    assert (await platform.service(Ledger).verify()).ok


async def test_no_income_without_funded_investors(platform):
    project = await published_project(platform)
    await open_stage(platform, project, target=1_000_00)
    with pytest.raises(Conflict, match="no investor"):
        await platform.service(IncomeService).distribute(project.id, amount_minor=100, period="2026-01")


async def test_a_distribution_paid_in_several_ledger_batches_is_whole_and_made_once(platform):
    platform.service(Ledger).settings.batch_max = 2  # three investors: two batches, built while the other is applied
    income = platform.service(IncomeService)
    project, _stage, investors = await three_investors_funded(platform)
    first = await income.distribute(project.id, amount_minor=1, period="2026-Q4")  # one kopeck: two get nothing
    payouts = {p["user_id"]: p for p in await income.payouts(first.id)}
    assert [payouts[str(who)]["amount_minor"] for who in investors] == [0, 0, 1]
    assert payouts[str(investors[2])]["transfer_id"] == str(tid("income", first.id, investors[2]))
    assert payouts[str(investors[0])]["transfer_id"] is None
    second = await income.distribute(project.id, amount_minor=600_01, period="2026-Q5")
    assert [await wallet(platform, who) for who in investors] == [100_00, 200_00, 300_01 + 1]
    transfers = await platform.db.fetchval("SELECT count(*) FROM ledger_transfers")
    assert not (await income.distribute(project.id, amount_minor=600_01, period="2026-Q5")).created
    assert await platform.db.fetchval("SELECT count(*) FROM ledger_transfers") == transfers
    assert second.investors == 3 and (await platform.service(Ledger).verify()).ok


async def test_a_payout_the_ledger_refuses_leaves_nothing_behind(platform, monkeypatch):
    ledger = platform.service(Ledger)
    ledger.settings.batch_max = 2
    project, _stage, investors = await three_investors_funded(platform)
    submit = ledger.submit

    async def last_wallet_gone(requests, **kw):  # the second batch of payouts names an account that does not exist
        if len(requests) == 1 and requests[0].code == "crowdinvesting.income_paid":
            requests = [dataclasses.replace(requests[0], credit_account_id=10**15)]
        return await submit(requests, **kw)

    monkeypatch.setattr(ledger, "submit", last_wallet_gone)
    transfers = await platform.db.fetchval("SELECT count(*) FROM ledger_transfers")
    income = platform.service(IncomeService)
    with pytest.raises(Conflict, match="refused 1 of 1"):
        await income.distribute(project.id, amount_minor=600_00, period="2026-Q4")
    assert await platform.db.fetchval("SELECT count(*) FROM ledger_transfers") == transfers
    assert await income.existing(project.id, None, "2026-Q4", 600_00) is None
    assert await platform.db.fetchval("SELECT count(*) FROM crowd_payouts WHERE distribution_id = $1",
                                      income.distribution_id(project.id, None, "2026-Q4")) == 0
    assert [await wallet(platform, who) for who in investors] == [0, 0, 0]
