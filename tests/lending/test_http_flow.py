"""A payday loan end to end over HTTP, with the ledger checked to the kopeck at every step."""

import datetime as dt
from decimal import Decimal

from core.jobs.runtime import Jobs
from core.users.testing import latest_code, make_user
from plugins.lending.schedule import round_minor
from plugins.lending.service import LendingService
from tests.lending.conftest import START
from tests.lending.helpers import PAYDAY, books, lending_with_fund, top_up


async def close_days(platform, days: int) -> None:
    jobs = platform.service(Jobs)
    for _ in range(days):
        await jobs.close_day()


async def test_apply_sign_accrue_repay_extend_repay(platform, client_as, business_date):
    admin = await client_as("lending.products", "lending.view", "lending.decide")
    created = await admin.post("/api/v1/admin/lending/products", json=PAYDAY)
    assert created.status_code == 201, created.text
    service = platform.service(LendingService)
    await service.accounts.add_capital(100_000_00, "flow")
    user = await make_user(platform)
    http = await client_as(user_id=user.id)

    quote = (await http.get("/api/v1/lending/calculate", params={"amount": "10000", "term_days": 30})).json()
    assert (quote["interest_minor"], quote["total_minor"], quote["psk_percent"]) == (2_400_00, 12_400_00, "292.000")

    applied = await http.post("/api/v1/lending/applications",
                              json={"amount": "10000.00", "term_days": 30, "idempotency_key": "first"})
    assert applied.status_code == 201, applied.text
    application = applied.json()
    assert application["status"] == "approved", application
    again = await http.post("/api/v1/lending/applications",
                            json={"amount": "10000.00", "term_days": 30, "idempotency_key": "first"})
    assert again.json()["id"] == application["id"], "a retried application is the same application"

    sent = await http.post(f"/api/v1/lending/applications/{application['id']}/code")
    assert sent.status_code == 200, sent.text
    wrong = await http.post(f"/api/v1/lending/applications/{application['id']}/sign", json={"code": "000000x"})
    assert wrong.status_code == 422 and await service.loans(user_id=user.id) == []
    code = await latest_code(platform, user.login)
    signed = await http.post(f"/api/v1/lending/applications/{application['id']}/sign", json={"code": code})
    assert signed.status_code == 200, signed.text
    loan = signed.json()
    assert (loan["status"], loan["disbursed_on"], loan["due_on"]) == ("active", "2026-12-01", "2026-12-31")
    assert await books(platform, user.id, loan["id"]) == {
        "wallet": 10_000_00, "fund": 90_000_00, "interest_due": 0, "penalty_due": 0, "interest_income": 0,
        "penalty_income": 0}

    await close_days(platform, 10)
    assert await business_date.today() == START + dt.timedelta(days=10)
    after_ten = await books(platform, user.id, loan["id"])
    assert after_ten["interest_due"] == after_ten["interest_income"] == 10 * 80_00
    # Close of day again for a closed date, both through the calendar and the service: nothing moves.
    accrue = next(job for job in platform.tasks.close_of_day_jobs() if job.name == "lending.accrue")
    assert not await business_date.run_once("lending.accrue", START + dt.timedelta(days=9), accrue.fn, platform,
                                            START + dt.timedelta(days=9))
    assert await service.accrue(START + dt.timedelta(days=9)) == 0
    assert await books(platform, user.id, loan["id"]) == after_ten

    partial = await http.post(f"/api/v1/lending/loans/{loan['id']}/repay",
                              json={"amount": "3000", "idempotency_key": "p1"})
    assert partial.status_code == 200, partial.text
    retried = await http.post(f"/api/v1/lending/loans/{loan['id']}/repay",
                              json={"amount": "3000", "idempotency_key": "p1"})
    assert retried.json()["payment_id"] == partial.json()["payment_id"]
    assert partial.json()["loan"]["balance_due"] == {"principal": 7_800_00, "interest": 0, "penalty": 0,
                                                     "total": 7_800_00}
    assert await books(platform, user.id, loan["id"]) == {
        "wallet": 7_000_00, "fund": 92_200_00, "interest_due": 0, "penalty_due": 0, "interest_income": 800_00,
        "penalty_income": 0}

    await close_days(platform, 2)
    extended = await http.post(f"/api/v1/lending/loans/{loan['id']}/extend", json={"idempotency_key": "e1"})
    assert extended.status_code == 200, extended.text
    assert extended.json()["loan"]["due_on"] == "2027-01-30"
    assert extended.json()["loan"]["extensions"] == 1
    assert await books(platform, user.id, loan["id"]) == {
        "wallet": 7_000_00 - 124_80, "fund": 92_200_00, "interest_due": 0, "penalty_due": 0,
        "interest_income": 800_00 + 124_80, "penalty_income": 0}

    short = await http.post(f"/api/v1/lending/loans/{loan['id']}/repay", json={"full": True, "idempotency_key": "f0"})
    assert short.status_code == 409 and "wallet" in short.json()["detail"]
    await top_up(platform, user.id, 2_000_00)
    full = await http.post(f"/api/v1/lending/loans/{loan['id']}/repay", json={"full": True, "idempotency_key": "f1"})
    assert full.status_code == 200, full.text
    assert full.json()["loan"]["status"] == "repaid"
    assert await books(platform, user.id, loan["id"]) == {
        "wallet": 7_000_00 - 124_80 + 2_000_00 - 7_800_00, "fund": 100_000_00, "interest_due": 0, "penalty_due": 0,
        "interest_income": 924_80, "penalty_income": 0}
    await close_days(platform, 1)
    assert (await service.loan(loan["id"]))["accrued_through"] == START + dt.timedelta(days=11), "repaid: no accrual"

    outbox = platform.registry("notification_channels").get("outbox")
    subjects = [m.subject for m in await outbox.messages(address=user.login)]
    for subject in ("Your loan is in your wallet", "Your loan is extended", "Your loan is repaid"):
        assert subject in subjects, subjects
    mine = (await http.get(f"/api/v1/lending/loans/{loan['id']}")).json()
    assert [p["kind"] for p in mine["payments"]] == ["repayment", "extension", "repayment"]
    page = await http.get(f"/lending/loans/{loan['id']}")
    assert page.status_code == 200 and "repaid" in page.text


async def test_an_unpaid_loan_goes_overdue_with_a_capped_penalty(platform):
    service = await lending_with_fund(platform)
    user = await make_user(platform)
    application = await service.apply(user.id, 10_000_00, 7)
    loan = await service._disburse(application["id"])
    jobs = platform.service(Jobs)
    for _ in range(8):
        await jobs.close_day()
    loan = await service.loan(loan["id"])
    assert (loan["status"], loan["overdue_days"]) == ("overdue", 1)
    assert loan["interest_accrued_minor"] == 8 * 80_00
    assert loan["penalty_accrued_minor"] == 5_48  # 10 000 × 20 % / 365, rounded
    told = await platform.registry("notification_channels").get("outbox").latest(user.login)
    assert told.subject == "Your loan is overdue" and "10\u00a0645,48" in told.text  # principal + interest + penalty
    # Far past due: interest and penalty stop at the 545-FZ cap (100 % of the principal).
    await service.accrue(START + dt.timedelta(days=400))
    loan = await service.loan(loan["id"])
    assert loan["interest_accrued_minor"] + loan["penalty_accrued_minor"] == 10_000_00 == loan["cost_cap_minor"]
    assert loan["max_overdue_days"] == 400 - 7 + 1
    admin_view = [row["id"] for row in await service.loans(status="overdue")]
    assert loan["id"] in admin_view
    assert Decimal(loan["psk"]) <= Decimal("292")


INSTALMENTS = {"code": "instalments", "name": "Instalments", "schedule_kind": "annuity", "min_amount": "10000",
               "max_amount": "50000", "min_term_days": 56, "max_term_days": 168, "period_days": 14,
               "daily_rate": "0.0025", "penalty_annual_rate": "0.2"}


async def test_an_instalment_loan_is_overdue_by_its_first_instalment_and_pays_penalty_last(make_platform):
    platform = await make_platform(core={"web": {"default_locale": "en"}},
                                   settings={"lending": {"allocation_order": ["interest", "principal", "penalty"]}})
    await platform.service(Jobs).calendar.set(START)
    service = await lending_with_fund(platform, product=INSTALMENTS)
    user = await make_user(platform)
    loan = await service._disburse((await service.apply(user.id, 10_000_00, 56))["id"])
    schedule = await service.instalments(loan["id"])
    assert [i["due_on"] for i in schedule] == [START + dt.timedelta(days=14 * k) for k in (1, 2, 3, 4)]
    assert sum(i["principal_minor"] for i in schedule) == 10_000_00
    await service.accrue(START + dt.timedelta(days=13))
    assert (await service.loan(loan["id"]))["status"] == "active"
    await service.accrue(START + dt.timedelta(days=14))
    loan = await service.loan(loan["id"])
    first = schedule[0]["principal_minor"]
    assert (loan["status"], loan["overdue_days"]) == ("overdue", 1)
    assert loan["interest_accrued_minor"] == 15 * 25_00
    assert loan["penalty_accrued_minor"] == round_minor(Decimal(first) * Decimal("0.2") / 365) > 0
    await top_up(platform, user.id, 1_000_00)
    payment = await service.repay(loan["id"], user.id, 400_00, idempotency_key="ru")
    assert (payment["interest_minor"], payment["principal_minor"], payment["penalty_minor"]) == (375_00, 25_00, 0)
    assert (await books(platform, user.id, loan["id"]))["penalty_due"] == loan["penalty_accrued_minor"]
