"""The income calculator's arithmetic, the portfolio's exact shares and the admin statistics."""

import uuid
from fractions import Fraction

from plugins.crowdinvesting import calculator, portfolio, stats
from plugins.crowdinvesting.investing import InvestmentService
from plugins.crowdinvesting.models import Terms
from tests.crowdinvesting.helpers import fund
from tests.projects.helpers import open_stage, published_project


def test_projection_rounds_only_the_answer():
    terms = Terms(uuid.uuid4(), 1_000_00, expected_yield_bp=1850, term_months=18, payout_period="quarter")
    result = calculator.project(100_000_00, terms, None)
    assert result.income_minor == 27_750_00 and result.payouts == 6 and result.per_payout_minor == 4_625_00
    assert result.as_json("RUB")["expected_yield_percent"] == "18.5"  # a decimal, not the fraction "37/2"
    odd = calculator.project(333_33, Terms(uuid.uuid4(), 1, expected_yield_bp=1, term_months=7), None)
    assert odd.income_minor == round(Fraction(333_33 * 1 * 7, 120_000))


async def test_portfolio_shares_and_stats(platform):
    investing = platform.service(InvestmentService)
    project = await published_project(platform)
    stage = await open_stage(platform, project, target=30_000_00, cap=30_000_00)
    a, b = uuid.uuid4(), uuid.uuid4()
    await fund(platform, a, 100_000_00)
    await fund(platform, b, 100_000_00)
    await investing.invest(a, project.id, 10_000_00)
    await investing.invest(b, project.id, 15_000_00)
    [holding] = await portfolio.portfolio(platform, a)
    assert holding.stages[0].share == Fraction(10, 25)  # of what the collecting stage holds so far
    assert holding.share == 0  # no stage is raised yet
    await investing.invest(a, project.id, 5_000_00)  # the cap: funded
    [holding] = await portfolio.portfolio(platform, a)
    assert holding.share == Fraction(1, 2) and str(holding.share_percent) == "50.0000"
    figures = await stats.project_stats(platform.db, project.id, "Europe/Moscow")
    total = figures["total"]
    assert (total.amount_minor, total.investors, total.investments, total.average_ticket_minor) == (
        30_000_00, 2, 3, 10_000_00)
    assert figures["stages"][0]["id"] == stage.id and len(figures["days"]) == 1
