"""Demo data: the Open House projects of the OPENi platform, raising money stage by stage.

* "Openh.ru" (real estate sale and rental service): stage 1 funded, spending approved, income
  paid twice; stage 2 collecting.
* "KOPIKUPI" (the cooperative's buy-without-a-bank-loan program): stage 1 collecting.
* "Open House offices": stage 1 failed and refunded, stage 2 is a draft.

Investors are twelve demo customers (``investor1@example.com`` ... with ``INVESTOR_PASSWORD``), their
wallets funded from a platform account; the users plugin's demo customer (anna@example.com) gets a
balance too, so the demo can invest.
Every step is idempotent: records are found by their address or key, transfers have ids
derived from their purpose, so loading twice creates nothing new.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from core.ledger import AccountFlags, Ledger, transfer_id
from core.projects import ProjectService, StageStatus, Upload
from core.projects.errors import Conflict, NotFound
from plugins.crowdinvesting.distribution import IncomeService
from plugins.crowdinvesting.investing import InvestmentService

DEMO = uuid.UUID("6f1f7c3e-2b0a-4a57-9d8e-0c0ffee00001")
MANAGER = uuid.uuid5(DEMO, "manager")
FINANCE = uuid.uuid5(DEMO, "finance")
#: Demo investors sign in as investor1@example.com ... investor12@example.com with this password.
INVESTOR_PASSWORD = "openi-shares-2026"
INVESTORS: list[uuid.UUID] = []
RECEIPT = b"%PDF-1.4\n% demo receipt\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def rub(amount: int) -> int:
    return amount * 100


async def fund_wallet(platform: Any, user_id: uuid.UUID, amount_minor: int, purpose: str = "wallet") -> None:
    ledger = platform.service(Ledger)
    source = await ledger.open_account(owner="platform", purpose="demo.funding", currency="RUB")
    wallet = await ledger.open_account(owner=f"user:{user_id}", purpose=purpose, currency="RUB",
                                       flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
    await ledger.transfer(id=transfer_id("crowdinvesting", "demo", "fund", user_id), debit_account_id=source.id,
                          credit_account_id=wallet.id, amount=amount_minor, code="demo.topup")


async def fund_marketing(platform: Any) -> None:
    ledger = platform.service(Ledger)
    settings = platform.settings("crowdinvesting")
    source = await ledger.open_account(owner="platform", purpose="demo.funding", currency="RUB")
    marketing = await ledger.open_account(owner="platform", purpose=settings.marketing_purpose, currency="RUB",
                                          flags=AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
    await ledger.transfer(id=transfer_id("crowdinvesting", "demo", "marketing"), debit_account_id=source.id,
                          credit_account_id=marketing.id, amount=rub(100_000), code="demo.marketing")


async def project(platform: Any, slug: str, title: str, summary: str, description: str, terms: dict[str, Any]) -> Any:
    projects = platform.service(ProjectService)
    try:
        found = await projects.project(slug)
    except NotFound:
        found = await projects.create_project(slug=slug, title=title, summary=summary, description=description,
                                              kind="crowdinvesting", actor=MANAGER)
        found = await projects.update_project(found.id, visibility="published")
    await platform.service(InvestmentService).set_terms(found.id, **terms)
    return found


async def stage(platform: Any, project: Any, title: str, target: int, lines: list[tuple[str, int, bool, str]],
                *, cap: int | None = None) -> Any:
    projects = platform.service(ProjectService)
    for existing in await projects.stages(project.id):
        if existing.title == title:
            return existing
    created = await projects.add_stage(project.id, title=title, target_minor=target, cap_minor=cap)
    for line_title, planned, required, category in lines:
        await projects.add_budget_line(created.id, title=line_title, planned_minor=planned, required=required,
                                       category=category)
    return created


async def invest_all(platform: Any, project: Any, tickets: list[tuple[int, int]], tag: str) -> None:
    investing = platform.service(InvestmentService)
    for who, amount in tickets:
        try:
            await investing.invest(INVESTORS[who], project.id, amount, idempotency_key=f"demo-{tag}-{who}")
        except Conflict:
            continue  # the stage moved on since the first load


async def load(platform: Any, progress: Any) -> None:
    projects = platform.service(ProjectService)
    now = dt.datetime.now(dt.UTC)
    progress("crowdinvesting: investors and wallets")
    INVESTORS[:] = await demo_investors(platform)
    for who in INVESTORS:
        await fund_wallet(platform, who, rub(700_000))
    await fund_marketing(platform)
    await _fund_demo_customer(platform)

    progress("crowdinvesting: Openh.ru")
    openh = await project(
        platform, "openh", "Openh.ru: real estate sale and rental",
        "A service for selling and renting out homes, built and run by Open House.",
        "The service lists homes for sale and rent, checks the papers of every deal and takes a fee.\n"
        "Investors share the fee income in proportion to their contributions.",
        {"min_investment_minor": rub(5_000), "max_per_investor_minor": None, "expected_yield_bp": 1600,
         "term_months": 24, "payout_period": "quarter"})
    first = await stage(platform, openh, "Platform launch", rub(1_500_000), [
        ("Development", rub(900_000), True, "task"), ("Servers and licences", rub(300_000), True, "structure"),
        ("Launch advertising", rub(300_000), False, "task")], cap=rub(1_500_000))
    if first.status == StageStatus.DRAFT:
        first = await projects.open_collection(first.id, closes_at=now + dt.timedelta(days=20))
    await invest_all(platform, openh, [(i, rub(amount)) for i, amount in enumerate(
        (300_000, 250_000, 200_000, 150_000, 150_000, 120_000, 100_000, 80_000, 60_000, 50_000, 25_000, 15_000))],
        "openh-1")
    first = await projects.stage(first.id)
    lines = await projects.budget_lines(first.id)
    if first.status in (StageStatus.FUNDED, StageStatus.IN_PROGRESS) and not await projects.spending(stage_id=first.id):
        for line, amount, text in ((lines[0], rub(450_000), "First release: catalogue and search"),
                                   (lines[1], rub(120_000), "Servers for a year")):
            entry = await projects.record_spending(
                first.id, budget_line_id=line.id, amount_minor=amount, description=text, payee="Apptech",
                spent_on=dt.date.today(), documents=[Upload(RECEIPT, "invoice.pdf")], actor=MANAGER)
            await projects.approve_spending(entry.id, actor=FINANCE, note="invoice checked")
        await projects.create_publication(
            openh.id, kind="accounting_report", title="Spending report: platform launch", stage_id=first.id,
            body="Released from escrow: development and servers. Invoices attached.",
            documents=[Upload(RECEIPT, "report.pdf")], publish=True, actor=MANAGER)
        await projects.create_publication(openh.id, kind="news", title="The catalogue is live",
                                          body="Three hundred homes listed in the first week.", publish=True,
                                          actor=MANAGER)
    income = platform.service(IncomeService)
    for period, amount in (("2026-Q2", rub(48_000)), ("2026-Q3", rub(61_337))):
        await income.distribute(openh.id, amount_minor=amount, period=period, note="service fees", actor=FINANCE)
    first = await projects.stage(first.id)
    if first.status == StageStatus.IN_PROGRESS:
        await projects.complete_stage(first.id, actor=MANAGER)
        await projects.create_publication(openh.id, kind="stage_report", stage_id=first.id,
                                          title="Stage 1 completed", body="The service runs; stage 2 opens.",
                                          publish=True, actor=MANAGER)
    second = await stage(platform, openh, "Regional expansion", rub(3_000_000), [
        ("Regional offices", rub(2_000_000), True, "structure"), ("Staff training", rub(1_000_000), True, "task")],
        cap=rub(3_500_000))
    if second.status == StageStatus.DRAFT:
        await projects.open_collection(second.id, closes_at=now + dt.timedelta(days=45))
    await invest_all(platform, openh, [(0, rub(100_000)), (3, rub(80_000)), (6, rub(50_000))], "openh-2")

    progress("crowdinvesting: KOPIKUPI")
    kopikupi = await project(
        platform, "kopikupi", "KOPIKUPI: homes and cars without a bank loan",
        "The Open House cooperative's program: members save together and buy in turn.",
        "Members pay in every month; the pool buys a home or a car for the next member in the queue.\n"
        "The investment finances the pool's growth; income comes from members' fees.",
        {"min_investment_minor": rub(10_000), "max_per_investor_minor": rub(500_000), "expected_yield_bp": 1200,
         "term_months": 36, "payout_period": "month"})
    pool = await stage(platform, kopikupi, "Pool for the first 20 members", rub(5_000_000), [
        ("Purchase pool", rub(4_500_000), True, "material"), ("Legal support", rub(500_000), True, "task")],
        cap=rub(6_000_000))
    if pool.status == StageStatus.DRAFT:
        await projects.open_collection(pool.id, closes_at=now + dt.timedelta(days=60))
    await invest_all(platform, kopikupi, [(i, rub(40_000 + 5_000 * i)) for i in range(5)], "kopikupi-1")

    progress("crowdinvesting: Open House offices")
    offices = await project(
        platform, "offices", "Open House offices",
        "More offices for Open House, so members can sign papers near home.", "",
        {"min_investment_minor": rub(5_000), "max_per_investor_minor": None, "expected_yield_bp": 900,
         "term_months": 12, "payout_period": "year"})
    lease = await stage(platform, offices, "Office in Kolpino", rub(2_000_000),
                        [("Lease and fit-out", rub(2_000_000), True, "structure")])
    if lease.status == StageStatus.DRAFT:
        await projects.open_collection(lease.id, closes_at=now + dt.timedelta(days=10))
        await invest_all(platform, offices, [(7, rub(30_000)), (8, rub(25_000))], "offices-1")
        await projects.close_collection(lease.id, reason="demo: collection ended below target")
    if (await projects.stage(lease.id)).status == StageStatus.FAILED:
        await platform.service(InvestmentService).refund_stage(lease.id)
    await stage(platform, offices, "Office in Pushkin, second try", rub(1_200_000),
                [("Lease deposit", rub(400_000), True, "structure"), ("Furniture", rub(300_000), False, "material")],
                cap=rub(1_500_000))


async def demo_investors(platform: Any) -> list[uuid.UUID]:
    """Twelve demo customers who invested (found again by their login on a second load)."""
    from core.users.service import Users

    users = platform.service(Users)
    found = []
    for i in range(1, 13):
        login = f"investor{i}@example.com"
        user = await users.find(login)
        if user is None:
            user = await users.create(login, INVESTOR_PASSWORD, display_name=f"Demo investor {i}", locale="ru",
                                      roles=("customer",))
        found.append(user.id)
    return found


async def _fund_demo_customer(platform: Any) -> None:
    """Give the users plugin's demo customer a balance to invest."""
    from core.users.service import Users

    found = await platform.service(Users).find("anna@example.com")
    if found is not None:
        await fund_wallet(platform, found.id, rub(1_000_000))
